/// One record of an outbox log: a new entry, a change of its state, or its removal by an operator.
///
/// The file backend appends these and never rewrites one in place, so a crash can only tear the last record;
/// the entry is written once, each later change as a small `update`, and the latest record of an id wins on
/// replay (an entry carried forward by compaction is written again whole, with its state at that moment).
public enum OutboxRecord: Sendable, Equatable {
    case entry(OutboxEntry)
    case update(OutboxUpdate)
    case dropped(id: String)

    /// The id of the entry the record is about.
    public var id: String {
        switch self {
        case .entry(let entry): entry.id
        case .update(let update): update.id
        case .dropped(let id): id
        }
    }
}

/// Framing and encoding of `OutboxRecord`s: `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`.
///
/// The length says where a record ends without parsing it; the checksum tells a record from the torn or
/// half-flushed remains of one (a crash mid-`write`, a power cut before the disk wrote every sector), so
/// replay keeps every whole record and stops at the first one that is not.
public enum OutboxRecordCodec {
    /// Frame header bytes.
    public static let headerBytes = 8
    /// No record is larger (a body is at most `server.max_body_bytes`, a megabyte by default); a longer length
    /// field is damage, not a record.
    public static let maxPayloadBytes = 64 << 20

    private enum Kind: UInt8 {
        case entry = 1, update = 2, dropped = 3
    }

    /// The framed bytes of `record`, appended to `out`.
    public static func append(_ record: OutboxRecord, to out: inout [UInt8]) {
        var payload = OutboxByteWriter()
        switch record {
        case .entry(let entry):
            payload.byte(Kind.entry.rawValue)
            payload.string(entry.id)
            payload.u64(entry.sequence)
            payload.string(entry.siteID)
            payload.string(entry.operationID)
            payload.string(entry.juid)
            payload.string(entry.method)
            payload.string(entry.target)
            payload.bytes(entry.body)
            payload.optionalString(entry.contentType)
            payload.string(entry.requestID)
            payload.u64(UInt64(bitPattern: entry.createdAtMs))
            payload.state(OutboxUpdate(id: entry.id, state: entry.state, attempts: entry.attempts,
                                       nextAttemptAtMs: entry.nextAttemptAtMs, lastStatus: entry.lastStatus,
                                       lastBody: entry.lastBody, lastFailure: entry.lastFailure))
        case .update(let update):
            payload.byte(Kind.update.rawValue)
            payload.string(update.id)
            payload.state(update)
        case .dropped(let id):
            payload.byte(Kind.dropped.rawValue)
            payload.string(id)
        }
        let bytes = payload.bytes
        // No `reserveCapacity` to the exact size here: called once per record into one growing batch (compaction
        // carries every pending entry of a segment at once), an exact reserve reallocates and copies the whole
        // batch on every record, and 100,000 carried entries took minutes (found by bench/outbox/drain.sh).
        OutboxByteWriter.appendU32(UInt32(bytes.count), to: &out)
        OutboxByteWriter.appendU32(CRC32.checksum(bytes), to: &out)
        out.append(contentsOf: bytes)
    }

    /// The whole records at the start of `bytes`, and how many bytes they take: everything after is a torn
    /// tail (or damage) that replay cuts off, or the zeros the file backend fills a live segment with ahead of
    /// its records (`OutboxSegmentFiles.prepare`). A zero length ends the records: no record has an empty
    /// payload (it starts with its kind, 1 to 3), and an all-zero header must not pass for one (the CRC-32 of
    /// nothing is 0).
    public static func decode(_ bytes: [UInt8]) -> (records: [OutboxRecord], validBytes: Int) {
        var records: [OutboxRecord] = []
        var offset = 0
        while bytes.count - offset >= headerBytes {
            let length = Int(readU32(bytes, at: offset))
            let checksum = readU32(bytes, at: offset + 4)
            guard length > 0, length <= maxPayloadBytes, bytes.count - offset - headerBytes >= length else { break }
            let payload = bytes[(offset + headerBytes)..<(offset + headerBytes + length)]
            guard CRC32.checksum(payload) == checksum, let record = decodePayload(payload) else { break }
            records.append(record)
            offset += headerBytes + length
        }
        return (records, offset)
    }

    private static func readU32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func decodePayload(_ payload: ArraySlice<UInt8>) -> OutboxRecord? {
        var reader = OutboxByteReader(payload)
        guard let kind = reader.byte().flatMap(Kind.init(rawValue:)), let id = reader.string() else { return nil }
        let record: OutboxRecord
        switch kind {
        case .entry:
            guard let sequence = reader.u64(), let site = reader.string(), let operation = reader.string(),
                  let juid = reader.string(), let method = reader.string(), let target = reader.string(),
                  let body = reader.bytes(), let contentType = reader.optionalString(),
                  let requestID = reader.string(), let created = reader.u64(), let state = reader.state(id: id)
            else { return nil }
            var entry = OutboxEntry(id: id, sequence: sequence, siteID: site, operationID: operation, juid: juid,
                                    method: method, target: target, body: body, contentType: contentType,
                                    requestID: requestID, createdAtMs: Int64(bitPattern: created))
            entry.apply(state)
            record = .entry(entry)
        case .update:
            guard let state = reader.state(id: id) else { return nil }
            record = .update(state)
        case .dropped:
            record = .dropped(id: id)
        }
        return reader.isAtEnd ? record : nil
    }
}
