import Crypto
import Testing
@testable import JustGateCore

/// The writer's fast path (a body encoded on a loop, sealed on the writer thread with a cached time and a
/// pre-keyed HMAC) must write exactly the bytes of the plain path, or `verify` and the review tools would
/// disagree with what was written.
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
            JSONSpanWriter.append(to: &written, upperBound: JSONSpanWriter.quotedBound(text)) { $0.quoted(text) }
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
