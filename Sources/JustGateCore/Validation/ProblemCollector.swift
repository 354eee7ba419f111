/// Gathers the field problems of one request with a bounded memory and answer size.
///
/// Every problem at once is the contract, but "every" has to stop somewhere: a body of 100,000 bad
/// fields must not turn into a 20 MB answer or a 2 MB log line. The first `limit` problems are kept,
/// later ones only counted (`omitted`), and the same (field, code) pair is kept once. Each step is a
/// hash lookup, so collecting stays linear in the number of fields.
public struct ProblemCollector: Sendable {
    /// How many problems a 422 lists at most; the rest are counted in `errors_truncated`.
    public static let defaultLimit = 50

    public private(set) var problems: [FieldProblem] = []
    /// Problems found beyond the limit, not listed.
    public private(set) var omitted = 0
    private var seen: Set<Key> = []
    private let limit: Int

    private struct Key: Hashable {
        var field: String
        var code: String
    }

    public init(limit: Int = ProblemCollector.defaultLimit) {
        self.limit = limit
    }

    public var isEmpty: Bool { problems.isEmpty && omitted == 0 }

    /// Adds a problem unless the same field already has a problem with this code.
    public mutating func append(_ problem: FieldProblem) {
        guard seen.insert(Key(field: problem.field, code: problem.code)).inserted else { return }
        if problems.count < limit {
            problems.append(problem)
        } else {
            omitted += 1
        }
    }

    /// The same, building the message only when the problem will be listed: past the limit a
    /// problem is only counted, so a flood of bad fields costs no text.
    public mutating func append(field: String, code: String, message: @autoclosure () -> String) {
        guard seen.insert(Key(field: field, code: code)).inserted else { return }
        if problems.count < limit {
            problems.append(FieldProblem(field: field, code: code, message: message()))
        } else {
            omitted += 1
        }
    }

    /// Adds every problem of `more`, including those it already counted as omitted.
    public mutating func append(contentsOf more: FieldProblems) {
        for problem in more.problems { append(problem) }
        omitted += more.omitted
    }

    /// The collected problems as one failure.
    public var failure: FieldProblems {
        var result = FieldProblems(problems: problems)
        result.omitted = omitted
        return result
    }
}
