import Foundation
import Testing
@testable import JustGateCore
import JustGateAuditReview

/// Logs written before `key` and `reason` existed: they still decode (fast scanner and general parser alike),
/// verify, and match filters after an upgrade; a line with only one of the two new keys is not a record.
@Suite struct AuditOlderFormatTests {
    static let key = Array("audit-key-for-tests".utf8)

    /// A chain of `count` records in the older format: each line as the current encoder writes it, with `key`
    /// and `reason` taken out before hashing, exactly as an older justgate wrote it.
    static func olderLog(count: Int) -> [UInt8] {
        let hasher = AuditHasher(key: key)
        var prev = AuditChain.genesis
        var out: [UInt8] = []
        for index in 0..<count {
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(index)))
            record.seq = index + 1
            record.requestID = "r\(index)"
            record.site = index % 2 == 0 ? "news" : "horoscope"
            record.outcome = index % 3 == 0 ? "upstream_error" : "forwarded"
            record.status = index % 3 == 0 ? 502 : 200
            record.prev = prev
            var canonical: [UInt8] = []
            AuditRecordEncoding.canonical(record, into: &canonical)
            var text = String(decoding: canonical, as: UTF8.self)
            text = text.replacingOccurrences(of: #","key":null"#, with: "").replacingOccurrences(of: #","reason":null"#, with: "")
            var bytes = Array(text.utf8)
            let hash = hasher.hash(bytes)
            AuditRecordEncoding.seal(canonical: &bytes, hash: hash)
            out += bytes + [0x0A]
            prev = hash
        }
        return out
    }

    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: 0x0A)
    }

    @Test func anOlderLineHasNeitherNewKeyAndDecodesBothWays() throws {
        let log = Self.olderLog(count: 3)
        let first = try #require(Self.lines(log).first)
        let text = String(decoding: first, as: UTF8.self)
        #expect(!text.contains(#""key":"#) && !text.contains(#""reason":"#))
        let scanned = try #require(AuditLineScanner.scan(first))
        let parsed = try AuditRecordDecoding.general(first)
        #expect(scanned == parsed)
        #expect(parsed.site == "news" && parsed.outcome == "upstream_error" && parsed.status == 502)
        #expect(parsed.key == nil && parsed.reason == nil)
    }

    @Test func anOlderLogVerifies() throws {
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: Self.key))
        try verifier.beginFile("audit.jsonl")
        for (index, line) in Self.lines(Self.olderLog(count: 10)).enumerated() {
            try verifier.check(line, line: index + 1, terminated: true)
        }
        try verifier.finish()
    }

    @Test func anOlderLogQueriesBySiteAndOutcome() throws {
        var filter = AuditFilter()
        filter.site = "news"
        filter.outcome = "upstream_error"
        let matched = try Self.lines(Self.olderLog(count: 12)).map { try AuditRecordDecoding.decode($0) }.filter(filter.matches)
        // Indexes 0 and 6 are both even (news) and divisible by 3 (upstream_error).
        #expect(matched.map(\.requestID) == ["r0", "r6"])
    }

    @Test func aCurrentLineCarriesKeyAndReasonAndDecodesBothWays() throws {
        var record = AuditRecord(time: "2026-11-29T17:02:03.456Z")
        record.site = "news"
        record.key = "3fc658ad7925"
        record.outcome = "upstream_error"
        record.reason = "connect_refused"
        record.status = 502
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var line: [UInt8] = []
        chain.seal(&record, into: &line)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains(#""site":"news","key":"3fc658ad7925","operation":null"#))
        #expect(text.contains(#""outcome":"upstream_error","reason":"connect_refused","status":502"#))
        let body = line.dropLast()
        #expect(AuditLineScanner.scan(body) == record)
        #expect(try AuditRecordDecoding.general(body) == record)
    }

    @Test func aLineWithOnlyOneOfTheNewKeysIsNotARecord() throws {
        var record = AuditRecord(time: "2026-11-29T17:02:03.456Z")
        record.outcome = "forwarded"
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var line: [UInt8] = []
        chain.seal(&record, into: &line)
        let withoutReason = String(decoding: line.dropLast(), as: UTF8.self).replacingOccurrences(of: #","reason":null"#, with: "")
        let bytes = Array(withoutReason.utf8)[...]
        #expect(AuditLineScanner.scan(bytes) == nil)
        #expect(throws: AuditRecordDecoding.Failure.self) { try AuditRecordDecoding.decode(bytes) }
    }
}
