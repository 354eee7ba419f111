/// The request path as the audit log keeps it. Paths are chosen by whoever sends the request, so a path can
/// carry anything, a key or a token pasted by mistake included: every segment longer than
/// `maxSegmentLength` is replaced by `<redacted>`, and the whole path is cut at `maxLength`. The API's own
/// paths have short segments, so a real operation's path is always kept whole.
public enum AuditRedaction {
    /// Longest segment kept; keys and tokens are longer (justgate's keys are 43 characters).
    public static let maxSegmentLength = 24
    /// Longest path kept.
    public static let maxLength = 200

    /// `path` with long segments redacted; the query is never part of it.
    public static func path(_ path: String) -> String {
        if isKeptAsIs(path) { return path }
        let withoutQuery = path.prefix { $0 != "?" }
        var out = ""
        for (index, segment) in withoutQuery.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { out += "/" }
            out += segment.utf8.count > maxSegmentLength ? "<redacted>" : String(segment)
            if out.utf8.count > maxLength { return String(out.prefix(maxLength)) + "…" }
        }
        return out
    }

    /// Whether `path(_:)` keeps the path with these UTF-8 bytes as it is: the common case, which the audit writer
    /// checks on a record's bytes without building a `String`.
    public static func isKeptAsIs(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        path.count <= maxLength && hasNoQueryNorLongSegment(path)
    }

    /// The common case, checked on the string's own bytes without building anything: stepping through a
    /// `String.UTF8View` index by index cost as much as encoding the rest of the record.
    private static func isKeptAsIs(_ path: String) -> Bool {
        path.utf8.withContiguousStorageIfAvailable(isKeptAsIs) ?? Array(path.utf8).withUnsafeBufferPointer(isKeptAsIs)
    }

    private static func hasNoQueryNorLongSegment(_ bytes: some Collection<UInt8>) -> Bool {
        var segment = 0
        for byte in bytes {
            if byte == 0x3F { return false }
            if byte == 0x2F { segment = 0; continue }
            segment += 1
            if segment > maxSegmentLength { return false }
        }
        return true
    }
}
