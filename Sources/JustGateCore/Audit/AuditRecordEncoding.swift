/// The one byte form of an audit record. The hash covers exactly these bytes (without the `hash` member), so
/// the writer and the verifier never disagree about what was signed: the verifier hashes the line as it is on
/// disk, not a re-encoding of what it parsed.
public enum AuditRecordEncoding {
    /// Length of `,"hash":"<64 hex>"}`, the fixed tail every line ends with.
    public static let hashTailLength = 75

    /// `{"time":…,"prev":"…"}`: every key but `hash`, in `AuditRecord.keys` order. This is what is hashed.
    public static func canonical(_ record: AuditRecord, into out: inout [UInt8]) {
        var prev: [UInt8] = []
        JSONBytesWriter.appendEscaped(record.prev, to: &prev)
        canonical(record, escapedPrev: prev, into: &out)
    }

    /// `canonical` with `prev` given in its JSON-escaped form, the form the chain keeps the last hash in.
    static func canonical(_ record: AuditRecord, escapedPrev: [UInt8], into out: inout [UInt8]) {
        JSONBytesWriter.appendRaw("{\"time\":", to: &out)
        JSONBytesWriter.appendQuoted(record.time, to: &out)
        appendSeqAndEvent(seq: record.seq, event: record.event, to: &out)
        body(record, into: &out)
        appendPrev(escaped: escapedPrev, to: &out)
    }

    /// The members from `request_id` to `note`: everything a record says about its request, and nothing
    /// about its place in the chain or its time. An event loop encodes this much as the request ends, so
    /// the writer thread only puts the time and the chain around it (`AuditChain.sealRequest`).
    public static func body(_ record: AuditRecord, into out: inout [UInt8]) {
        body(of: record, durationMicros: record.durationMicros, into: &out)
    }

    /// `body` from any source of the values, with the request's duration measured by the caller.
    public static func body(of fields: some AuditBodyFields, durationMicros: Int?, into out: inout [UInt8]) {
        var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        defer { memory.deallocate() }
        let count = body(of: fields, durationMicros: durationMicros) { atLeast in
            memory = .allocate(byteCount: atLeast, alignment: 8)
            return memory
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: memory[0..<count]))
    }

    /// `body` into memory the caller reuses: `room` is asked once for at least the bytes the body can need and
    /// returns where to write them; the result is how many bytes were written there.
    ///
    /// Each value is read from `fields` once, into a local: reading a text is a retain and a release, and a
    /// struct holding all of them was copied and destroyed through generic value witnesses, which doubled the
    /// time to encode a record.
    @inlinable
    public static func body(of fields: some AuditBodyFields, durationMicros: Int?,
                            room: (_ atLeast: Int) -> UnsafeMutableRawBufferPointer) -> Int {
        let requestID = fields.auditRequestID, site = fields.auditSite, operation = fields.auditOperation
        let method = fields.auditMethod, path = fields.auditPath, client = fields.auditClient
        let outcome = fields.auditOutcome, policy = fields.auditPolicy, traceID = fields.auditTraceID
        let note = fields.auditNote, errors = fields.auditErrors, personal = fields.auditPersonal
        func text(_ value: String?) -> Int { JSONSpanWriter.quotedBound(value) }
        // Keys (under 256 bytes), the numbers, and every text at its longest (each byte escaped).
        var bound = 256 + 5 * JSONSpanWriter.numberBound
        bound += text(requestID) + text(site) + text(operation) + text(method) + text(path) + text(client)
        bound += text(outcome) + text(policy) + text(traceID) + text(note)
        bound += text(personal.juid) + text(personal.email) + text(personal.phone) + text(personal.ip)
        for error in errors { bound += 24 + text(error.field) + text(error.code) }
        return JSONSpanWriter.write(into: room(bound)) { out in
            out.raw(",\"request_id\":"); out.quoted(requestID)
            out.raw(",\"site\":"); out.quoted(site)
            out.raw(",\"operation\":"); out.quoted(operation)
            out.raw(",\"method\":"); out.quoted(method)
            out.raw(",\"path\":"); out.quoted(path)
            out.raw(",\"client\":"); out.quoted(client)
            out.raw(",\"outcome\":"); out.quoted(outcome)
            out.raw(",\"status\":"); out.integer(fields.auditStatus)
            out.raw(",\"upstream_status\":"); out.integer(fields.auditUpstreamStatus)
            out.raw(",\"duration_ms\":"); out.thousandths(durationMicros)
            out.raw(",\"upstream_ms\":"); out.thousandths(fields.auditUpstreamMicros)
            out.raw(",\"attempts\":"); out.integer(fields.auditAttempts)
            out.raw(",\"errors\":[")
            for (index, error) in errors.enumerated() {
                if index > 0 { out.byte(0x2C) }
                out.raw("{\"field\":"); out.quoted(error.field)
                out.raw(",\"code\":"); out.quoted(error.code)
                out.byte(0x7D)
            }
            out.byte(0x5D)
            out.raw(",\"policy\":"); out.quoted(policy)
            out.raw(",\"trace_id\":"); out.quoted(traceID)
            out.raw(",\"juid\":"); out.quoted(personal.juid)
            out.raw(",\"email\":"); out.quoted(personal.email)
            out.raw(",\"phone\":"); out.quoted(personal.phone)
            out.raw(",\"ip\":"); out.quoted(personal.ip)
            out.raw(",\"note\":"); out.quoted(note)
        }
    }

    /// `,"seq":N,"event":"…"`, the members between `time` and the body.
    static func appendSeqAndEvent(seq: Int, event: AuditRecord.Event, to out: inout [UInt8]) {
        JSONBytesWriter.appendRaw(",\"seq\":", to: &out)
        JSONBytesWriter.appendInteger(seq, to: &out)
        switch event {
        case .request: JSONBytesWriter.appendRaw(",\"event\":\"request\"", to: &out)
        case .chainStart: JSONBytesWriter.appendRaw(",\"event\":\"chain_start\"", to: &out)
        case .chainRestart: JSONBytesWriter.appendRaw(",\"event\":\"chain_restart\"", to: &out)
        }
    }

    /// `,"prev":"…"}`, the end of the canonical bytes, from `prev` already in its JSON-escaped form.
    static func appendPrev(escaped prev: [UInt8], to out: inout [UInt8]) {
        JSONBytesWriter.appendRaw(",\"prev\":\"", to: &out)
        out.append(contentsOf: prev)
        JSONBytesWriter.appendRaw("\"}", to: &out)
    }

    /// Turns canonical bytes into the line on disk (without newline) by putting `hash` in as the last member.
    public static func seal(canonical: inout [UInt8], hash: String) {
        seal(canonical: &canonical, hashHex: hash.utf8)
    }

    /// `seal` with the hash's hex digits as bytes; `canonical` may be the end of a longer buffer.
    static func seal(canonical: inout [UInt8], hashHex: some Collection<UInt8>) {
        canonical.removeLast()
        JSONBytesWriter.appendRaw(",\"hash\":\"", to: &canonical)
        canonical.append(contentsOf: hashHex)
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
