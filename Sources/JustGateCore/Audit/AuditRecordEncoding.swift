/// The one byte form of an audit record. The hash covers exactly these bytes (without the `hash` member), so
/// the writer and the verifier never disagree about what was signed: the verifier hashes the line as it is on
/// disk, not a re-encoding of what it parsed.
public enum AuditRecordEncoding {
    /// Length of `,"hash":"<64 hex>"}`, the fixed tail every line ends with.
    public static let hashTailLength = 75

    /// `{"time":…,"prev":"…"}`: every key but `hash`, in `AuditRecord.keys` order. This is what is hashed.
    public static func canonical(_ record: AuditRecord, into out: inout [UInt8]) {
        func key(_ text: StaticString) { JSONBytesWriter.appendRaw(text, to: &out) }
        func text(_ value: String?) {
            if let value { JSONBytesWriter.appendQuoted(value, to: &out) } else { key("null") }
        }
        func integer(_ value: Int?) {
            if let value { JSONBytesWriter.appendInteger(value, to: &out) } else { key("null") }
        }
        func millis(_ micros: Int?) {
            if let micros { JSONBytesWriter.appendThousandths(micros, to: &out) } else { key("null") }
        }
        key("{\"time\":"); text(record.time)
        key(",\"seq\":"); integer(record.seq)
        key(",\"event\":"); text(record.event.rawValue)
        key(",\"request_id\":"); text(record.requestID)
        key(",\"site\":"); text(record.site)
        key(",\"operation\":"); text(record.operation)
        key(",\"method\":"); text(record.method)
        key(",\"path\":"); text(record.path)
        key(",\"client\":"); text(record.client)
        key(",\"outcome\":"); text(record.outcome)
        key(",\"status\":"); integer(record.status)
        key(",\"upstream_status\":"); integer(record.upstreamStatus)
        key(",\"duration_ms\":"); millis(record.durationMicros)
        key(",\"upstream_ms\":"); millis(record.upstreamMicros)
        key(",\"attempts\":"); integer(record.attempts)
        key(",\"errors\":[")
        for (index, error) in record.errors.enumerated() {
            key(index == 0 ? "{\"field\":" : ",{\"field\":")
            text(error.field)
            key(",\"code\":")
            text(error.code)
            out.append(0x7D)
        }
        out.append(0x5D)
        key(",\"policy\":"); text(record.policy)
        key(",\"trace_id\":"); text(record.traceID)
        key(",\"juid\":"); text(record.juid)
        key(",\"email\":"); text(record.email)
        key(",\"phone\":"); text(record.phone)
        key(",\"ip\":"); text(record.ip)
        key(",\"note\":"); text(record.note)
        key(",\"prev\":"); text(record.prev)
        out.append(0x7D)
    }

    /// Turns canonical bytes into the line on disk (without newline) by putting `hash` in as the last member.
    public static func seal(canonical: inout [UInt8], hash: String) {
        canonical.removeLast()
        JSONBytesWriter.appendRaw(",\"hash\":\"", to: &canonical)
        canonical.append(contentsOf: hash.utf8)
        JSONBytesWriter.appendRaw("\"}", to: &canonical)
    }

    /// The canonical bytes of a line read from disk: everything before `,"hash":"…"` plus the closing brace,
    /// and the hash it claims; `nil` when the line does not end the way every audit line ends.
    public static func split(line: ArraySlice<UInt8>) -> (canonical: [UInt8], hash: String)? {
        guard line.count > hashTailLength else { return nil }
        let tailStart = line.endIndex - hashTailLength
        let prefix = Array(",\"hash\":\"".utf8)
        guard line[tailStart..<(tailStart + prefix.count)].elementsEqual(prefix),
              line[line.endIndex - 2] == 0x22, line[line.endIndex - 1] == 0x7D
        else { return nil }
        let hex = line[(tailStart + prefix.count)..<(line.endIndex - 2)]
        guard hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        var canonical = Array(line[line.startIndex..<tailStart])
        canonical.append(0x7D)
        return (canonical, String(decoding: hex, as: UTF8.self))
    }
}
