import Crypto
import Testing
@testable import JustGateCore
import JustGateAuditReview

/// The writer's fast path (values packed on a loop, the body written from the packet and sealed on the writer
/// thread with a cached time and a pre-keyed HMAC) must write exactly the bytes of the plain path, or `verify`
/// and the review tools would disagree with what was written.
@Suite struct AuditFastPathTests {
    static let key = Array("audit-key-for-the-fast-path-test".utf8)

    /// Records with every kind of value: nulls, escapes, non-ASCII, errors, negative and large numbers.
    static func records() -> [AuditRecord] {
        var plain = AuditRecordTests.sample()
        plain.time = ""
        var odd = AuditRecord(time: "")
        odd.requestID = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} del\u{7F}"
        odd.site = "кириллица-сайт"
        odd.path = "/emoji/🙂/<redacted>"
        odd.key = "0123456789ab"
        odd.reason = "timeout_after_sending"
        odd.status = -1
        odd.upstreamStatus = Int.max
        odd.durationMicros = -999
        odd.upstreamMicros = 123_456_789_012
        odd.attempts = 0
        odd.errors = [AuditFieldError(field: "tags[2]", code: "invalid_tag"), AuditFieldError(field: nil, code: "x\"y")]
        odd.policy = "sms-per-number"
        odd.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        odd.note = String(repeating: "\u{1}", count: 300)
        return [plain, odd, AuditRecord(time: "")]
    }

    @Test(arguments: [true, false])
    func sealingAPreEncodedBodyWritesTheSameBytesAsSealingTheRecord(keyed: Bool) throws {
        let hasher = { AuditHasher(key: keyed ? AuditFastPathTests.key : nil) }
        var plainChain = AuditChain(hasher: hasher())
        var fastChain = AuditChain(hasher: hasher())
        var plainBytes: [UInt8] = []
        var fastBytes: [UInt8] = []
        var millis: Int64 = 1_796_000_000_998
        for (index, original) in (AuditFastPathTests.records() + AuditFastPathTests.records()).enumerated() {
            millis += Int64(index * 997)
            var record = original
            record.time = AuditTime.format(unixMillis: millis)
            plainChain.seal(&record, into: &plainBytes)
            var body: [UInt8] = []
            AuditRecordEncoding.body(original, into: &body)
            body.withUnsafeBytes { fastChain.sealRequest(unixMillis: millis, body: $0, into: &fastBytes) }
            #expect(fastChain.lastHash == record.hash)
        }
        #expect(String(decoding: fastBytes, as: UTF8.self) == String(decoding: plainBytes, as: UTF8.self))
        var verifier = AuditChainVerifier(hasher: hasher())
        try verifier.beginFile("audit.jsonl")
        for (number, line) in fastBytes.split(separator: 0x0A).enumerated() {
            try verifier.check(line, line: number + 1, terminated: true)
        }
        try verifier.finish()
        #expect(verifier.last?.seq == 6)
    }

    @Test func theBodyIsTheCanonicalFormBetweenEventAndPrev() {
        for record in AuditFastPathTests.records() {
            var canonical: [UInt8] = []
            AuditRecordEncoding.canonical(record, into: &canonical)
            var body: [UInt8] = []
            AuditRecordEncoding.body(record, into: &body)
            let text = String(decoding: canonical, as: UTF8.self)
            let start = text.range(of: "\"event\":\"request\"")?.upperBound
            let end = text.range(of: ",\"prev\":", options: .backwards)?.lowerBound
            guard let start, let end else {
                Issue.record("canonical form without event or prev: \(text)")
                continue
            }
            #expect(String(text[start..<end]) == String(decoding: body, as: UTF8.self))
        }
    }

    /// The body written from a packet, against a reference spelled out member by member with the array writer:
    /// the packet carries every value (nulls, escapes, non-ASCII, extreme numbers, errors) through unchanged.
    @Test func aPacketWritesWhatTheReferenceEncoderWritesForEveryKindOfValue() {
        func text(_ value: String?, _ out: inout [UInt8]) {
            if let value { JSONBytesWriter.appendQuoted(value, to: &out) } else { JSONBytesWriter.appendRaw("null", to: &out) }
        }
        func number(_ value: Int?, thousandths: Bool = false, _ out: inout [UInt8]) {
            guard let value else { return JSONBytesWriter.appendRaw("null", to: &out) }
            if thousandths { JSONBytesWriter.appendThousandths(value, to: &out) } else { JSONBytesWriter.appendInteger(value, to: &out) }
        }
        var records = AuditFastPathTests.records()
        var many = AuditRecord(time: "")
        many.errors = (0..<40).map { AuditFieldError(field: "tags[\($0)]", code: $0 % 2 == 0 ? "invalid_tag" : "") }
        many.email = ""
        records.append(many)
        for record in records {
            var expected: [UInt8] = []
            for (key, value) in [("request_id", record.requestID), ("site", record.site), ("key", record.key),
                                 ("operation", record.operation), ("method", record.method), ("path", record.path),
                                 ("client", record.client), ("outcome", record.outcome), ("reason", record.reason)] {
                expected += Array(",\"\(key)\":".utf8)
                text(value, &expected)
            }
            expected += Array(",\"status\":".utf8); number(record.status, &expected)
            expected += Array(",\"upstream_status\":".utf8); number(record.upstreamStatus, &expected)
            expected += Array(",\"duration_ms\":".utf8); number(record.durationMicros, thousandths: true, &expected)
            expected += Array(",\"upstream_ms\":".utf8); number(record.upstreamMicros, thousandths: true, &expected)
            expected += Array(",\"attempts\":".utf8); number(record.attempts, &expected)
            expected += Array(",\"errors\":[".utf8)
            for (index, error) in record.errors.enumerated() {
                if index > 0 { expected.append(0x2C) }
                expected += Array("{\"field\":".utf8); text(error.field, &expected)
                expected += Array(",\"code\":".utf8); text(error.code, &expected)
                expected.append(0x7D)
            }
            expected.append(0x5D)
            for (key, value) in [("policy", record.policy), ("trace_id", record.traceID), ("juid", record.juid),
                                 ("email", record.email), ("phone", record.phone), ("ip", record.ip), ("note", record.note)] {
                expected += Array(",\"\(key)\":".utf8)
                text(value, &expected)
            }
            var packet = [UInt8](repeating: 0xEE, count: 64 * 1024)
            let packetLength = packet.withUnsafeMutableBytes { memory in
                AuditBodyPacket.pack(record, durationMicros: record.durationMicros) { atLeast in
                    #expect(atLeast <= memory.count)
                    return memory
                }
            }
            var body = [UInt8](repeating: 0xEE, count: AuditRecordEncoding.bodyBound(packetLength: packetLength))
            let bodyLength = packet.withUnsafeBytes { packetBytes in
                body.withUnsafeMutableBytes { memory in
                    AuditRecordEncoding.body(packet: UnsafeRawBufferPointer(rebasing: packetBytes[0..<packetLength])) { atLeast in
                        #expect(atLeast == memory.count)
                        return memory
                    }
                }
            }
            #expect(String(decoding: body[0..<bodyLength], as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    /// A record's values as an event loop hands them over: path and personal values as the request had them.
    struct RawFields: AuditBodyFields {
        var record: AuditRecord
        var auditRequestID: String? { record.requestID }
        var auditSite: String? { record.site }
        var auditKey: String? { record.key }
        var auditOperation: String? { record.operation }
        var auditMethod: String? { record.method }
        var auditPath: String? { record.path }
        var auditClient: String? { record.client }
        var auditOutcome: String? { record.outcome }
        var auditReason: String? { record.reason }
        var auditStatus: Int? { record.status }
        var auditUpstreamStatus: Int? { record.upstreamStatus }
        var auditUpstreamMicros: Int? { record.upstreamMicros }
        var auditAttempts: Int? { record.attempts }
        var auditErrors: [AuditFieldError] { record.errors }
        var auditPolicy: String? { record.policy }
        var auditTraceID: String? { record.traceID }
        var auditPersonal: AuditPersonalFields {
            var personal = AuditPersonalFields()
            personal.juid = record.juid
            personal.email = record.email
            personal.phone = record.phone
            personal.ip = record.ip
            return personal
        }
        var auditNote: String? { record.note }
        var auditValuesAreRaw: Bool { true }
    }

    /// The writer redacts and masks raw values exactly as `AuditRedaction` and `AuditMasking` do on `String`s:
    /// a loop no longer does it, so this is the only place a record's personal values are masked.
    @Test func rawValuesAreWrittenRedactedAndMaskedAsTheStringFunctionsDo() {
        let longSegment = String(repeating: "k", count: 43)
        let paths: [String?] = [
            nil, "", "/", "/api/user/v1/subscription/subscribe/sms", "/api/\(longSegment)/x", "/a?token=\(longSegment)",
            "/" + String(repeating: "abc/", count: 60), "/ü/" + String(repeating: "é", count: 30), "/\u{1}\"\\",
            "/" + String(repeating: "é", count: 125),
        ]
        let emails: [String?] = [nil, "", "user@example.com", "@example.com", "no-at-sign", "ü@пример.рф", "a\"b@x.ru", "a@b@c"]
        let phones: [String?] = [nil, "", "7", "79", "791", "7912345", "79123456789", "491234567890123", "７９１２３４５６７８９"]
        let ips: [String?] = [nil, "", "203.0.113.77", "::ffff:198.51.100.7", "2001:db8:1:2::1", "1::", "not an address",
                              "::", "1.2.3.4"]
        var checked = 0
        for index in 0..<max(paths.count, emails.count, phones.count, ips.count) {
            var raw = AuditRecordTests.sample()
            raw.path = paths[index % paths.count]
            raw.email = emails[index % emails.count]
            raw.phone = phones[index % phones.count]
            raw.ip = ips[index % ips.count]
            var masked = raw
            masked.path = raw.path.map { $0.isEmpty ? $0 : AuditRedaction.path($0) }
            masked.email = raw.email.map(AuditMasking.email)
            masked.phone = raw.phone.map(AuditMasking.phone)
            masked.ip = raw.ip.flatMap(AuditMasking.ip)
            var expected: [UInt8] = []
            AuditRecordEncoding.body(masked, into: &expected)
            var written: [UInt8] = []
            AuditRecordEncoding.body(of: RawFields(record: raw), durationMicros: raw.durationMicros, into: &written)
            // Bytes, not decoded text: decoding would repair invalid UTF-8 and hide it.
            #expect(written == expected, "\(String(decoding: written, as: UTF8.self))")
            checked += 1
        }
        #expect(checked == 10)
        // And the masks did something: no raw value reaches the body.
        var raw = AuditRecordTests.sample()
        raw.email = "someone@example.com"
        raw.phone = "79123456789"
        raw.ip = "203.0.113.77"
        raw.path = "/api/\(longSegment)/x"
        var written: [UInt8] = []
        AuditRecordEncoding.body(of: RawFields(record: raw), durationMicros: nil, into: &written)
        let text = String(decoding: written, as: UTF8.self)
        for value in ["someone", "79123456789", "203.0.113.77", longSegment] { #expect(!text.contains(value)) }
        #expect(text.contains("\"s***@example.com\"") && text.contains("\"7912*****89\"") && text.contains("\"203.0.113.0/24\""))
        #expect(text.contains("\"path\":\"/api/<redacted>/x\""))
        // Values that grow when masked (an empty e-mail, `::`, a dotted quad, a path cut at 200 bytes), each
        // written into exactly `bodyBound` bytes: the writer's precondition stops the test if the bound is short.
        raw.email = ""
        raw.ip = "::"
        raw.path = "/" + String(repeating: "\u{1}/", count: 130)
        for ip in ["::", "1.2.3.4", "1::"] {
            raw.ip = ip
            var grown: [UInt8] = []
            AuditRecordEncoding.body(of: RawFields(record: raw), durationMicros: nil, into: &grown)
            let body = String(decoding: grown, as: UTF8.self)
            #expect(body.contains("\"email\":\"***\""))
            #expect(body.contains("/48\",\"note\"") || body.contains("/24\",\"note\""))
            #expect(body.contains("…"))
        }
    }

    /// Texts of every length through the packet's short copies (1–3, 4–7, 8–16, 17–32 bytes) and the long one.
    @Test func textsOfEveryLengthArePackedWhole() {
        for length in 0...80 {
            var record = AuditRecord(time: "")
            record.requestID = String((0..<length).map { Character(Unicode.Scalar(UInt8(0x41 + $0 % 26))) })
            record.note = String(repeating: "é", count: length)
            var expected: [UInt8] = []
            JSONBytesWriter.appendQuoted(record.requestID ?? "", to: &expected)
            var body: [UInt8] = []
            AuditRecordEncoding.body(record, into: &body)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.hasPrefix(",\"request_id\":" + String(decoding: expected, as: UTF8.self) + ",\"site\":"), "\(length) bytes")
            #expect(text.hasSuffix(",\"note\":\"" + String(repeating: "é", count: length) + "\""), "\(length * 2) bytes")
        }
    }

    @Test func theCachedTimeFormatterAgreesWithTheFormatAcrossSecondsDaysAndYears() {
        var formatter = AuditTimeFormatter()
        var samples: [Int64] = [0, 999, 1000, -1, -1000, -1001, 951_782_399_999, 951_782_400_000, 1_796_000_000_123]
        var value: Int64 = 1_798_761_599_000  // 2026-12-31T23:59:59Z, then on into the next year
        for _ in 0..<3000 {
            samples.append(value)
            value += 1
        }
        for millis in samples {
            var out: [UInt8] = []
            formatter.append(unixMillis: millis, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == AuditTime.format(unixMillis: millis), "at \(millis)")
        }
    }

    @Test(arguments: [0, 1, 31, 32, 63, 64, 65, 200])
    func theKeyedHashIsHMACSHA256(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let keyed = KeyedSHA256(key: key)
        for length in [0, 1, 55, 56, 64, 119, 520, 4096] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let ours = message.withUnsafeBytes { Array(keyed.authenticationCode(for: $0)) }
            let library = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            #expect(ours == library, "key \(keyLength) bytes, message \(length) bytes")
        }
    }

    /// The unkeyed chain: libcrypto's SHA-256 (`SHA256State`) against swift-crypto's, across block boundaries
    /// and fed in pieces as well as whole.
    @Test func thePlainHashIsSHA256() {
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 520, 598, 4096] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
            let library = SHA256.hash(data: message).map { String(format: "%02x", $0) }.joined()
            #expect(AuditHasher(key: nil).hash(message) == library, "\(length) bytes whole")
            var pieces = SHA256State()
            message.withUnsafeBytes { raw in
                var start = 0
                while start < raw.count {
                    let end = min(raw.count, start + 1 + start % 70)
                    pieces.add(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                    start = end
                }
            }
            var digest = SHA256Digest()
            pieces.finish(into: &digest)
            var hex: [UInt8] = []
            digest.appendHex(to: &hex)
            #expect(String(decoding: hex, as: UTF8.self) == library, "\(length) bytes in pieces")
        }
    }

    @Test func theSpanWriterWritesWhatTheByteWriterWrites() {
        let texts = ["", "plain", "quote\"", "back\\slash", "\u{0}\u{1F}\u{7F}", "кириллица", "🙂", "\n\r\t\u{8}\u{C}"]
        for text in texts {
            var expected: [UInt8] = []
            JSONBytesWriter.appendQuoted(text, to: &expected)
            var written: [UInt8] = [0x41]
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { bytes in
                JSONSpanWriter.append(to: &written, upperBound: 2 + 6 * bytes.count) { $0.quoted(bytes) }
            }
            #expect(written == [0x41] + expected, "\(text.debugDescription)")
        }
        for value in [0, 1, 9, 10, 999, 1000, 1001, -1, -999, -1000, -1001, 123_456_789, Int.max, Int.min + 1] {
            var expected: [UInt8] = []
            JSONBytesWriter.appendThousandths(value, to: &expected)
            var written: [UInt8] = []
            JSONSpanWriter.append(to: &written, upperBound: JSONSpanWriter.numberBound) { $0.thousandths(value) }
            #expect(written == expected, "thousandths \(value)")
            expected = []
            JSONBytesWriter.appendInteger(value, to: &expected)
            written = []
            JSONSpanWriter.append(to: &written, upperBound: JSONSpanWriter.numberBound) { $0.integer(value) }
            #expect(written == expected, "integer \(value)")
        }
        var nulls: [UInt8] = []
        JSONSpanWriter.append(to: &nulls, upperBound: 12) { $0.quoted(nil); $0.integer(nil); $0.thousandths(nil) }
        #expect(String(decoding: nulls, as: UTF8.self) == "nullnullnull")
    }
}
