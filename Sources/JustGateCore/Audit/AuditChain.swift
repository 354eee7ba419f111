/// The writer's side of the hash chain: remembers the last `seq` and `hash` and seals each new record onto it.
///
/// A value, so the writer thread owns one and tests drive it without files. The chain continues across
/// rotated files and restarts because the writer seeds it from the last record on disk (`resume`).
public struct AuditChain {
    /// `prev` of the very first record: there is nothing before it.
    public static let genesis = String(repeating: "0", count: 64)

    private let hasher: AuditHasher
    /// `seq` of the last record sealed, 0 before the first.
    public private(set) var lastSeq: Int
    /// `hash` of the last record sealed.
    public private(set) var lastHash: String

    /// A chain with nothing before it, or continuing after (`lastSeq`, `lastHash`) read from disk.
    public init(hasher: AuditHasher, lastSeq: Int = 0, lastHash: String = AuditChain.genesis) {
        self.hasher = hasher
        self.lastSeq = lastSeq
        self.lastHash = lastHash
    }

    /// Gives `record` the next `seq` and the `prev` link, hashes it, and appends its line (with newline) to `out`.
    public mutating func seal(_ record: inout AuditRecord, into out: inout [UInt8]) {
        record.seq = lastSeq + 1
        record.prev = lastHash
        var line: [UInt8] = []
        line.reserveCapacity(512)
        AuditRecordEncoding.canonical(record, into: &line)
        record.hash = hasher.hash(line)
        AuditRecordEncoding.seal(canonical: &line, hash: record.hash)
        out.append(contentsOf: line)
        out.append(0x0A)
        lastSeq = record.seq
        lastHash = record.hash
    }
}
