import Foundation
import Testing
@testable import JustGateCore

/// The record's byte form, its masking and its allowlist.
@Suite struct AuditRecordTests {
    static func sample() -> AuditRecord {
        var record = AuditRecord(time: "2026-11-29T17:02:03.456Z")
        record.requestID = "req-1"
        record.site = "news"
        record.key = "3fc658ad7925"
        record.operation = "createProfile"
        record.method = "POST"
        record.path = "/api/user/v1/subscription/create/profile"
        record.client = "127.0.0.1:5000"
        record.outcome = "rejected_invalid"
        record.status = 422
        record.durationMicros = 12_034
        record.errors = [AuditFieldError(field: "email", code: "invalid_email"), AuditFieldError(field: nil, code: "unknown_field")]
        record.email = "e***@example.com"
        return record
    }

    @Test func everyKeyIsWrittenInOrderWithNullsWhereUnknown() throws {
        var line: [UInt8] = []
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var record = AuditRecordTests.sample()
        chain.seal(&record, into: &line)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        guard case .object(let members) = try JSONParser.parse(String(text.dropLast())) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == AuditRecord.keys)
        #expect(text.contains(#""upstream_status":null,"duration_ms":12.034,"upstream_ms":null"#))
        #expect(text.contains(#""errors":[{"field":"email","code":"invalid_email"},{"field":null,"code":"unknown_field"}]"#))
        #expect(text.contains(#""seq":1,"event":"request""#))
    }

    @Test func aLineDecodesBackToTheSameRecord() throws {
        var line: [UInt8] = []
        var chain = AuditChain(hasher: AuditHasher(key: Array("k".utf8)))
        var record = AuditRecordTests.sample()
        chain.seal(&record, into: &line)
        let decoded = try AuditRecordDecoding.decode(line.dropLast()[...])
        #expect(decoded == record)
    }

    @Test func theFastScannerAgreesWithTheGeneralParser() throws {
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var variants: [AuditRecord] = [AuditRecordTests.sample(), AuditRecord(time: "2026-11-29T00:00:00.000Z", event: .chainStart)]
        var odd = AuditRecordTests.sample()
        odd.site = "quote\"and\\slash"
        odd.path = "/ünïcode"
        odd.durationMicros = -5
        odd.upstreamMicros = 0
        odd.status = nil
        odd.errors = []
        variants.append(odd)
        for var record in variants {
            var line: [UInt8] = []
            chain.seal(&record, into: &line)
            let bytes = line.dropLast()
            #expect(try AuditRecordDecoding.general(bytes) == record)
            #expect(try AuditRecordDecoding.decode(bytes) == record)
            if let fast = AuditLineScanner.scan(bytes) { #expect(fast == record) }
        }
        // Valid JSON in another spelling is not the scanner's, but still a record.
        var line: [UInt8] = []
        var record = AuditRecordTests.sample()
        chain.seal(&record, into: &line)
        let spaced = Array(String(decoding: line.dropLast(), as: UTF8.self).replacingOccurrences(of: "\"seq\":", with: "\"seq\": ").utf8)
        #expect(AuditLineScanner.scan(spaced[...]) == nil)
        #expect(try AuditRecordDecoding.decode(spaced[...]).seq == record.seq)
        // Not valid JSON: a leading zero, a trailing member. Neither path accepts it.
        for (from, to) in [("\"seq\":\(record.seq),", "\"seq\":0\(record.seq),"), ("\"hash\":", "\"x\":1,\"hash\":")] {
            let text = String(decoding: line.dropLast(), as: UTF8.self).replacingOccurrences(of: from, with: to)
            #expect(text != String(decoding: line.dropLast(), as: UTF8.self))
            #expect(AuditLineScanner.scan(Array(text.utf8)[...]) == nil)
            #expect(throws: AuditRecordDecoding.Failure.self) { try AuditRecordDecoding.decode(Array(text.utf8)[...]) }
        }
    }

    /// The scanner may only say yes where the strict parser does, with the same record: checked on 30,000
    /// single-byte edits (replace, insert, delete) of real lines.
    @Test func theScannerNeverAcceptsWhatTheParserRefuses() {
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var lines: [[UInt8]] = []
        for var record in [AuditRecordTests.sample(), AuditRecord(time: "2026-11-29T00:00:00.000Z", event: .chainRestart)] {
            var line: [UInt8] = []
            chain.seal(&record, into: &line)
            lines.append(Array(line.dropLast()))
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let interesting = Array("\"\\,:{}[]0123456789.-enulltrue \u{7F}".utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for iteration in 0..<30_000 {
            var bytes = lines[iteration % lines.count]
            let at = next(bytes.count)
            let byte = interesting[next(interesting.count)]
            switch next(3) {
            case 0: bytes[at] = byte
            case 1: bytes.insert(byte, at: at)
            default: bytes.remove(at: at)
            }
            guard let fast = AuditLineScanner.scan(bytes[...]) else { continue }
            accepted += 1
            let general = try? AuditRecordDecoding.general(bytes[...])
            #expect(general == fast, "scanner accepted \(String(decoding: bytes, as: UTF8.self))")
            if general != fast { return }
        }
        #expect(accepted > 0)
    }

    @Test func linesThatAreNotRecordsAreRefusedWithAReason() {
        let cases = ["{\"time\":\"x\"}", "not json", "[1,2]"]
        for text in cases {
            #expect(throws: AuditRecordDecoding.Failure.self) { try AuditRecordDecoding.decode(Array(text.utf8)[...]) }
        }
    }

    @Test(arguments: [
        ("elena@example.com", "e***@example.com"),
        ("a@b.c", "a***@b.c"),
        ("no-at-sign", "***"),
    ])
    func emailKeepsTheFirstCharacterAndTheDomain(input: String, masked: String) {
        #expect(AuditMasking.email(input) == masked)
    }

    @Test(arguments: [
        ("79123456789", "7912*****89"),
        ("441234567890", "4412******90"),
        ("1234567", "*****67"),
    ])
    func phoneKeepsTheCodeAndTheLastTwoDigits(input: String, masked: String) {
        #expect(AuditMasking.phone(input) == masked)
    }

    @Test(arguments: [
        ("203.0.113.77", "203.0.113.0/24"),
        ("::ffff:10.1.2.3", "10.1.2.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("2001:db8::1", "2001:db8::/48"),
    ])
    func ipKeepsItsNetwork(input: String, masked: String) {
        #expect(AuditMasking.ip(input) == masked)
    }

    @Test func textThatIsNotAnAddressIsNeverWritten() {
        #expect(AuditMasking.ip("secret-token-value") == nil)
    }

    @Test func theAllowlistKeepsOnlyMaskedPersonalFieldsAndNeverTheName() {
        let allowlist = AuditAllowlist(catalogue: Catalogue())
        let validated = ValidatedRequest(pathParameter: nil, fields: [
            NormalisedField(name: "juid", value: "0123456789abcdef0123456789abcdef"),
            NormalisedField(name: "email", value: "elena@example.com"),
            NormalisedField(name: "number", value: "79123456789"),
            NormalisedField(name: "ip", value: "203.0.113.77"),
            NormalisedField(name: "name", value: "Elena Petrova"),
            NormalisedField(name: "refid", value: "campaign-42"),
        ])
        var record = AuditRecord(time: "2026-11-29T17:02:03.456Z")
        record.apply(allowlist.personalValues(of: validated).masked)
        #expect(record.juid == "0123456789abcdef0123456789abcdef")
        #expect(record.email == "e***@example.com")
        #expect(record.phone == "7912*****89")
        #expect(record.ip == "203.0.113.0/24")
        var line: [UInt8] = []
        AuditRecordEncoding.canonical(record, into: &line)
        let text = String(decoding: line, as: UTF8.self)
        #expect(!text.contains("Elena") && !text.contains("Petrova") && !text.contains("campaign-42"))
    }

    @Test func errorEntriesNameOnlyFieldsJustgateKnows() {
        let allowlist = AuditAllowlist(catalogue: Catalogue())
        #expect(allowlist.fieldName("email") == "email")
        #expect(allowlist.fieldName("data.email") == "data.email")
        #expect(allowlist.fieldName("tags[2]") == "tags[2]")
        #expect(allowlist.fieldName("sk_live_0123456789abcdef") == nil)
        #expect(allowlist.fieldName("data.sk-0123456789abcdef0123456789") == nil)
    }

    @Test func longPathSegmentsAreRedactedAndTheQueryDropped() {
        #expect(AuditRedaction.path("/api/user/v1/subscription/create/profile") == "/api/user/v1/subscription/create/profile")
        let key = String(repeating: "K", count: 43)
        #expect(AuditRedaction.path("/api/\(key)/x?token=\(key)") == "/api/<redacted>/x")
    }

    @Test func timesAreFixedWidthUTCAndOperatorInputParses() throws {
        #expect(AuditTime.format(unixMillis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(AuditTime.format(unixMillis: 1_796_000_000_123) == "2026-11-30T00:53:20.123Z")
        let parsed = try #require(AuditTime.parse("2026-11-30T00:53:20.123Z"))
        #expect(parsed == 1_796_000_000_123)
        #expect(AuditTime.parse("2026-11-30") == 1_795_996_800_000)
        #expect(AuditTime.parse("2026-11-30T00:53Z") == Int64(1_795_999_980_000))
        #expect(AuditTime.parse("yesterday") == nil)
        #expect(AuditTime.parse("2026-02-30") == nil)
    }

    @Test func rotatedFilesAreOrderedByNumberWithTheLiveFileLast() {
        let names = ["audit.jsonl", "audit.jsonl.10", "audit.jsonl.2", "other.txt", "audit.jsonl.x", "audit.jsonl.02"]
        #expect(AuditFileNames.ordered(names, base: "audit.jsonl") == ["audit.jsonl.2", "audit.jsonl.10", "audit.jsonl"])
    }
}
