/// The cross-field check for start/end pairs (`startDate`/`endDate`, `start`/`end`).
///
/// Upstream answers a reversed range with an empty result, which a site reads as "no data"; the gateway
/// reports it instead. Lives beside the rules because it compares their normalised outputs.
public enum FieldRange {
    /// A `reversed_range` problem if `start` lies after `end`, else nil. Both values must already be
    /// normalised by the same rule: decimal Unix seconds compare as numbers, `YYYY-MM-DD HH:MM:SS` as text.
    public static func problem(startField: String, start: String, endField: String, end: String) -> FieldProblem? {
        let reversed: Bool
        if let startSeconds = Int64(start), let endSeconds = Int64(end) {
            reversed = startSeconds > endSeconds
        } else {
            reversed = start > end
        }
        guard reversed else { return nil }
        return FieldProblem(field: startField, code: ProblemCode.reversedRange,
            message: "expected \(startField) to be on or before \(endField); got \(start) after \(end)")
    }
}
