/// What the end of an audit file says about where the chain stands, read when justgate starts: the last
/// complete record (to continue the chain from) and whether a torn line follows it (a crash mid-write).
public struct AuditTail: Sendable, Equatable {
    /// The last complete, readable record, or `nil` when the bytes hold none.
    public var lastRecord: AuditRecord?
    /// Bytes after the last newline: a line cut short by a crash. 0 when the file ends cleanly.
    public var tornBytes: Int
    /// The 1-based line number of the torn line (or of the next line to be written when nothing is torn).
    public var nextLine: Int

    /// Reads the tail of a file. `bytes` are the file's last bytes (enough for a few records); `lineCount` is
    /// the number of newlines in the whole file, so the torn line can be named by its number.
    public init(tail bytes: [UInt8], newlinesInFile lineCount: Int) throws(AuditRecordDecoding.Failure) {
        let lastNewline = bytes.lastIndex(of: 0x0A)
        tornBytes = bytes.count - (lastNewline.map { $0 + 1 } ?? 0)
        nextLine = lineCount + 1
        guard let lastNewline else {
            lastRecord = nil
            return
        }
        let start = bytes[..<lastNewline].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        lastRecord = try AuditRecordDecoding.decode(bytes[start..<lastNewline])
    }

    /// Whether the last complete line of `bytes` carries the hash `hasher` gives it; `nil` when there is no
    /// such line. Read at start-up: a log whose last record is not signed with this gateway's key was written
    /// with another key or none, or was rewritten, and the operator hears of it before the chain goes on.
    public static func lastLineIsSigned(_ bytes: [UInt8], by hasher: AuditHasher) -> Bool? {
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return nil }
        let start = bytes[..<lastNewline].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        guard let (canonical, claimed) = AuditRecordEncoding.split(line: bytes[start..<lastNewline]) else { return false }
        return hasher.hash(canonical) == claimed
    }
}
