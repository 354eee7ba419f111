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
    /// about its place in the chain or its time. The writer thread writes this much from an event loop's
    /// packet and puts the time and the chain around it (`AuditChain.sealRequest`).
    public static func body(_ record: AuditRecord, into out: inout [UInt8]) {
        body(of: record, durationMicros: record.durationMicros, into: &out)
    }

    /// `body` from any source of the values, with the request's duration measured by the caller: packed, then
    /// written from the packet, so there is one encoder whatever the values come from.
    public static func body(of fields: some AuditBodyFields, durationMicros: Int?, into out: inout [UInt8]) {
        var packet = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        var memory = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        defer { packet.deallocate(); memory.deallocate() }
        let packetLength = AuditBodyPacket.pack(fields, durationMicros: durationMicros) { atLeast in
            packet = .allocate(byteCount: atLeast, alignment: 8)
            return packet
        }
        let count = body(packet: UnsafeRawBufferPointer(rebasing: packet[0..<packetLength])) { atLeast in
            memory = .allocate(byteCount: atLeast, alignment: 8)
            return memory
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: memory[0..<count]))
    }

    /// The most bytes `body(packet:room:)` writes for a packet of `packetLength` bytes. Six bytes of room per
    /// packed byte cover every value at its longest in JSON: a text packed as 4 + n bytes is written in at most
    /// 2 + 6n (each byte escaped as `\u00XX`), leaving 22 to spare; a number packed as 8 bytes is written in
    /// at most 21. The 256 cover the members' keys (236 bytes); each error's own keys (19 bytes) come out of
    /// the 44 its two texts leave to spare. A value the writer masks or redacts is at most 3 bytes longer than
    /// the raw one (an IPv4 address gains `/24`, a cut path `…`): 18 bytes of JSON, within a text's 22.
    public static func bodyBound(packetLength: Int) -> Int {
        256 + 6 * packetLength
    }

    /// `body` from a packet (`AuditBodyPacket`), into memory the caller reuses: `room` is asked once for
    /// `bodyBound` bytes and returns where to write them; the result is how many bytes were written there.
    ///
    /// A packet of raw values (`AuditBodyFields.auditValuesAreRaw`) has its path redacted and its personal values
    /// masked here, on the writer thread, a batch at a time: on an event loop, between two requests, that work
    /// cost several times what it does warm.
    public static func body(packet: UnsafeRawBufferPointer, room: (_ atLeast: Int) -> UnsafeMutableRawBufferPointer) -> Int {
        var values = AuditBodyPacket.Reader(packet)
        return JSONSpanWriter.write(into: room(bodyBound(packetLength: packet.count))) { out in
            let raw = values.flags() & AuditBodyPacket.rawValues != 0
            out.raw(",\"request_id\":"); out.quoted(values.text())
            out.raw(",\"site\":"); out.quoted(values.text())
            out.raw(",\"key\":"); out.quoted(values.text())
            out.raw(",\"operation\":"); out.quoted(values.text())
            out.raw(",\"method\":"); out.quoted(values.text())
            out.raw(",\"path\":"); raw ? redactedPath(values.text(), to: &out) : out.quoted(values.text())
            out.raw(",\"client\":"); out.quoted(values.text())
            out.raw(",\"outcome\":"); out.quoted(values.text())
            out.raw(",\"reason\":"); out.quoted(values.text())
            out.raw(",\"status\":"); out.integer(values.number())
            out.raw(",\"upstream_status\":"); out.integer(values.number())
            out.raw(",\"duration_ms\":"); out.thousandths(values.number())
            out.raw(",\"upstream_ms\":"); out.thousandths(values.number())
            out.raw(",\"attempts\":"); out.integer(values.number())
            out.raw(",\"errors\":[")
            for index in 0..<values.count() {
                if index > 0 { out.byte(0x2C) }
                out.raw("{\"field\":"); out.quoted(values.text())
                out.raw(",\"code\":"); out.quoted(values.text())
                out.byte(0x7D)
            }
            out.byte(0x5D)
            out.raw(",\"policy\":"); out.quoted(values.text())
            out.raw(",\"trace_id\":"); out.quoted(values.text())
            out.raw(",\"juid\":"); out.quoted(values.text())
            out.raw(",\"email\":"); raw ? maskedEmail(values.text(), to: &out) : out.quoted(values.text())
            out.raw(",\"phone\":"); raw ? maskedPhone(values.text(), to: &out) : out.quoted(values.text())
            out.raw(",\"ip\":"); raw ? maskedIP(values.text(), to: &out) : out.quoted(values.text())
            out.raw(",\"note\":"); out.quoted(values.text())
        }
    }

    /// The path as the log keeps it (`AuditRedaction.path`); checked on its bytes, a `String` only for a path
    /// that loses something.
    private static func redactedPath(_ path: UnsafeBufferPointer<UInt8>?, to out: inout JSONSpanWriter) {
        guard let path, !AuditRedaction.isKeptAsIs(path) else { return out.quoted(path) }
        quoted(path, through: AuditRedaction.path, to: &out)
    }

    private static func maskedEmail(_ email: UnsafeBufferPointer<UInt8>?, to out: inout JSONSpanWriter) {
        quoted(email, through: AuditMasking.email, to: &out)
    }

    /// An ASCII phone is masked from its bytes, with no `String`; anything else as `AuditMasking.phone(_:)` does.
    private static func maskedPhone(_ phone: UnsafeBufferPointer<UInt8>?, to out: inout JSONSpanWriter) {
        guard let phone, phone.allSatisfy({ $0 < 0x80 }) else {
            return quoted(phone, through: AuditMasking.phone, to: &out)
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: phone.count) { masked in
            AuditMasking.phone(phone, into: masked)
            out.quoted(UnsafeBufferPointer(masked))
        }
    }

    private static func maskedIP(_ ip: UnsafeBufferPointer<UInt8>?, to out: inout JSONSpanWriter) {
        quoted(ip, through: AuditMasking.ip, to: &out)
    }

    /// `bytes` as text through `transform` (a mask or the path's redaction), quoted; `null` for `nil` bytes or
    /// a `nil` result.
    private static func quoted(_ bytes: UnsafeBufferPointer<UInt8>?, through transform: (String) -> String?,
                               to out: inout JSONSpanWriter) {
        guard let bytes, var text = transform(String(decoding: bytes, as: UTF8.self)) else { return out.quoted(nil) }
        text.withUTF8 { out.quoted($0) }
    }

    /// `,"seq":N,"event":"…"`, the members between `time` and the body.
    static func appendSeqAndEvent(seq: Int, event: AuditRecord.Event, to out: inout [UInt8]) {
        JSONBytesWriter.appendRaw(",\"seq\":", to: &out)
        JSONBytesWriter.appendInteger(seq, to: &out)
        switch event {
        case .request: JSONBytesWriter.appendRaw(",\"event\":\"request\"", to: &out)
        case .chainStart: JSONBytesWriter.appendRaw(",\"event\":\"chain_start\"", to: &out)
        case .chainRestart: JSONBytesWriter.appendRaw(",\"event\":\"chain_restart\"", to: &out)
        case .reload: JSONBytesWriter.appendRaw(",\"event\":\"reload\"", to: &out)
        case .secretRotated: JSONBytesWriter.appendRaw(",\"event\":\"secret_rotated\"", to: &out)
        case .delivery: JSONBytesWriter.appendRaw(",\"event\":\"delivery\"", to: &out)
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
