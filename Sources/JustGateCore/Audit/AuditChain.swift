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
    /// `hash` of the last record sealed, as it stands in JSON between the quotes of the next record's `prev`
    /// (our own hashes are hex, which JSON never escapes; a hash read from a damaged file may need escaping).
    private var lastHashJSON: [UInt8]
    /// Request times, formatted a second at a time.
    private var times = AuditTimeFormatter()

    /// A chain with nothing before it, or continuing after (`lastSeq`, `lastHash`) read from disk.
    public init(hasher: AuditHasher, lastSeq: Int = 0, lastHash: String = AuditChain.genesis) {
        self.hasher = hasher
        self.lastSeq = lastSeq
        var escaped: [UInt8] = []
        JSONBytesWriter.appendEscaped(lastHash, to: &escaped)
        self.lastHashJSON = escaped
    }

    /// `hash` of the last record sealed.
    public var lastHash: String { String(decoding: lastHashJSON, as: UTF8.self) }

    /// Gives `record` the next `seq` and the `prev` link, hashes it, and appends its line (with newline) to `out`.
    public mutating func seal(_ record: inout AuditRecord, into out: inout [UInt8]) {
        record.seq = lastSeq + 1
        record.prev = lastHash
        let start = out.count
        AuditRecordEncoding.canonical(record, escapedPrev: lastHashJSON, into: &out)
        finishLine(from: start, into: &out)
        record.hash = lastHash
    }

    /// Seals a request record whose body is written (`AuditRecordEncoding.body(packet:room:)`): writes its
    /// `time`, `seq` and `event` in front, its `prev` after, hashes and appends the line (with newline) to
    /// `out`. The bytes equal `seal` of the same record with `time` formatted from `unixMillis`.
    public mutating func sealRequest(unixMillis: Int64, body: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let start = out.count
        JSONBytesWriter.appendRaw("{\"time\":\"", to: &out)
        times.append(unixMillis: unixMillis, to: &out)
        out.append(0x22)
        AuditRecordEncoding.appendSeqAndEvent(seq: lastSeq + 1, event: .request, to: &out)
        out.append(contentsOf: body)
        AuditRecordEncoding.appendPrev(escaped: lastHashJSON, to: &out)
        finishLine(from: start, into: &out)
    }

    /// Hashes the canonical bytes `out[start...]`, turns them into the sealed line and moves the chain on.
    private mutating func finishLine(from start: Int, into out: inout [UInt8]) {
        // The previous hash is written (as `prev`), so its buffer takes the new one.
        lastHashJSON.removeAll(keepingCapacity: true)
        out.withUnsafeBytes { bytes in
            hasher.appendHash(of: UnsafeRawBufferPointer(rebasing: bytes[start...]), to: &lastHashJSON)
        }
        AuditRecordEncoding.seal(canonical: &out, hashHex: lastHashJSON)
        out.append(0x0A)
        lastSeq += 1
    }
}
