import Foundation
import Testing
@testable import JustGateAuditReview
@testable import JustGateCore

/// `verify` on intact logs and on each way a log can be tampered with.
@Suite struct AuditChainVerifierTests {
    static let key = Array("audit-key-for-tests".utf8)

    /// `count` request records, split into files of `perFile` lines, as the bytes each file holds.
    static func log(count: Int, perFile: Int = .max, key: [UInt8]? = AuditChainVerifierTests.key) -> [(String, [UInt8])] {
        var chain = AuditChain(hasher: AuditHasher(key: key))
        var files: [(String, [UInt8])] = []
        var current: [UInt8] = []
        var inFile = 0
        for index in 0..<count {
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(index)))
            record.requestID = "r\(index)"
            record.outcome = "forwarded"
            record.status = 200
            chain.seal(&record, into: &current)
            inFile += 1
            if inFile == perFile {
                files.append(("audit.jsonl.\(files.count + 1)", current))
                current = []
                inFile = 0
            }
        }
        files.append(("audit.jsonl", current))
        return files
    }

    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init)
    }

    static func joined(_ lines: [[UInt8]]) -> [UInt8] {
        lines.flatMap { $0 + [0x0A] }
    }

    /// Runs the verifier over `files` as the CLI does; `nil` when the chain is intact.
    static func verify(_ files: [(String, [UInt8])], key: [UInt8]? = AuditChainVerifierTests.key) -> AuditChainVerifier.Problem? {
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: key))
        do {
            for (name, bytes) in files {
                try verifier.beginFile(name)
                let parts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                for (index, part) in parts.enumerated() {
                    let isLast = index == parts.count - 1
                    if isLast && part.isEmpty { break }
                    try verifier.check(part, line: index + 1, terminated: !isLast)
                }
            }
            try verifier.finish()
            return nil
        } catch {
            return error
        }
    }

    @Test func anIntactLogVerifiesWithAndWithoutKey() {
        #expect(Self.verify(Self.log(count: 20)) == nil)
        #expect(Self.verify(Self.log(count: 20, perFile: 6)) == nil)
        #expect(Self.verify(Self.log(count: 20, key: nil), key: nil) == nil)
    }

    @Test func anEditedByteIsCaught() throws {
        var files = Self.log(count: 10)
        var lines = Self.lines(files[0].1)
        let at = try #require(String(decoding: lines[4], as: UTF8.self).range(of: "\"status\":200"))
        let offset = String(decoding: lines[4], as: UTF8.self).utf8.distance(from: String(decoding: lines[4], as: UTF8.self).startIndex, to: at.lowerBound)
        lines[4][offset + 10] = UInt8(ascii: "1")
        files[0].1 = Self.joined(lines)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .edited)
        #expect(problem.file == "audit.jsonl" && problem.line == 5)
    }

    @Test func aDeletedLineIsCaught() throws {
        var files = Self.log(count: 10)
        var lines = Self.lines(files[0].1)
        lines.remove(at: 3)
        files[0].1 = Self.joined(lines)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .deleted)
        #expect(problem.line == 4)
        #expect(problem.detail.contains("seq 4"))
    }

    @Test func twoSwappedLinesAreCaughtAsReordered() throws {
        var files = Self.log(count: 10)
        var lines = Self.lines(files[0].1)
        lines.swapAt(5, 6)
        files[0].1 = Self.joined(lines)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .reordered)
        #expect(problem.line == 6)
    }

    @Test func aTruncatedTailIsCaught() throws {
        var files = Self.log(count: 10)
        files[0].1.removeLast(30)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .truncated)
        #expect(problem.line == 10)
    }

    @Test func aRotatedFileMissingFromTheMiddleIsCaught() throws {
        var files = Self.log(count: 20, perFile: 5)
        #expect(files.count == 5)
        files.remove(at: 2)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .missingFile)
        #expect(problem.file == "audit.jsonl.4" && problem.line == 1)
    }

    @Test func oldestFilesRotatedAwayAreANoticeNotABreak() throws {
        var files = Self.log(count: 20, perFile: 5)
        files.removeFirst(2)
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: Self.key))
        #expect(Self.verify(files) == nil)
        try verifier.beginFile(files[0].0)
        try verifier.check(Self.lines(files[0].1)[0][...], line: 1, terminated: true)
        #expect(verifier.notices.first?.contains("starts at seq 11") == true)
    }

    @Test func aRecordReSignedWithoutTheKeyIsCaught() throws {
        var files = Self.log(count: 10)
        var lines = Self.lines(files[0].1)
        var record = try AuditRecordDecoding.decode(lines[2][...])
        record.status = 500
        var forged: [UInt8] = []
        AuditRecordEncoding.canonical(record, into: &forged)
        AuditRecordEncoding.seal(canonical: &forged, hash: AuditHasher.plainHash(forged))
        lines[2] = forged
        files[0].1 = Self.joined(lines)
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .resigned)
        #expect(problem.line == 3)
    }

    /// A log whose chain_start was rotated away, checked without its key: not "edited" (a false alarm) but
    /// "key needed", which the CLI turns into exit 2.
    @Test func aLogWrittenWithAKeyNeedsItAndSaysSo() throws {
        let problem = try #require(Self.verify(Self.log(count: 3), key: nil))
        #expect(problem.kind == .keyNeeded && problem.line == 1)
        #expect(problem.detail.contains("--key-env"))
    }

    /// `count` records after a `chain_start` that declares how they are signed, as a new log starts.
    static func declaredLog(count: Int, key: [UInt8]?) -> [UInt8] {
        var chain = AuditChain(hasher: AuditHasher(key: key))
        var bytes: [UInt8] = []
        var start = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000), event: .chainStart)
        start.note = "a new audit log; \(AuditSigning(keyed: key != nil).declaration)"
        chain.seal(&start, into: &bytes)
        for index in 0..<count {
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_001 + Int64(index)))
            record.requestID = "r\(index)"
            chain.seal(&record, into: &bytes)
        }
        return bytes
    }

    @Test func aLogThatDeclaresHMACNeedsTheKeyAndOtherwiseVerifies() throws {
        let log = [("audit.jsonl", Self.declaredLog(count: 3, key: Self.key))]
        let problem = try #require(Self.verify(log, key: nil))
        #expect(problem.kind == .keyNeeded && problem.line == 1)
        #expect(problem.detail.contains("HMAC-SHA-256"))
        #expect(Self.verify(log) == nil)
        // An edit in a log that declares plain SHA-256 is still an edit, not a missing key.
        var lines = Self.lines(Self.declaredLog(count: 3, key: nil))
        lines[2] = Array(String(decoding: lines[2], as: UTF8.self).replacingOccurrences(of: "\"r1\"", with: "\"R1\"").utf8)
        let edited = try #require(Self.verify([("audit.jsonl", Self.joined(lines))], key: nil))
        #expect(edited.kind == .edited && edited.line == 3)
    }

    /// A whole HMAC log rewritten as a plain SHA-256 chain (its chain_start saying plain too) passes a check
    /// without the key, which then says it proves nothing against a rewrite; with the key it is caught.
    @Test func aLogRewrittenAsPlainSHA256IsCaughtWithTheKey() throws {
        let rewritten = [("audit.jsonl", Self.declaredLog(count: 3, key: nil))]
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: nil))
        try verifier.beginFile("audit.jsonl")
        for (index, line) in Self.lines(rewritten[0].1).enumerated() {
            try verifier.check(line[...], line: index + 1, terminated: true)
        }
        #expect(!verifier.isKeyed && verifier.declaredSigning == .plainSHA256)
        let problem = try #require(Self.verify(rewritten))
        #expect(problem.kind == .resigned && problem.line == 1)
    }

    @Test func aTornLineFollowedByAChainRestartVerifies() throws {
        var bytes = Self.log(count: 5)[0].1
        var lines = Self.lines(bytes)
        let last = try AuditRecordDecoding.decode(lines[4][...])
        bytes.append(contentsOf: Array("{\"time\":\"2026-11-".utf8))
        bytes.append(0x0A)
        var chain = AuditChain(hasher: AuditHasher(key: Self.key), lastSeq: last.seq, lastHash: last.hash)
        var restart = AuditRecord(time: "2026-11-30T00:00:00.000Z", event: .chainRestart)
        restart.note = "torn line 6 discarded"
        chain.seal(&restart, into: &bytes)
        #expect(Self.verify([("audit.jsonl", bytes)]) == nil)

        // The same garbage line without the restart record after it is a break.
        lines.insert(Array("garbage".utf8), at: 2)
        let problem = try #require(Self.verify([("audit.jsonl", Self.joined(lines))]))
        #expect(problem.kind == .notARecord && problem.line == 3)
    }

    @Test func aTornLastLineOfARotatedFileIsForgivenByARestartOpeningTheNextFile() throws {
        var files = Self.log(count: 10, perFile: 5)
        let lines = Self.lines(files[1].1)
        let last = try AuditRecordDecoding.decode(lines[4][...])
        files[1].1 += Array("{\"time\":\"2026".utf8) + [0x0A]
        var chain = AuditChain(hasher: AuditHasher(key: Self.key), lastSeq: last.seq, lastHash: last.hash)
        var restart = AuditRecord(time: "2026-11-30T00:00:00.000Z", event: .chainRestart)
        var live: [UInt8] = []
        chain.seal(&restart, into: &live)
        files[2].1 = live
        #expect(Self.verify(files) == nil)
        files[2].1 = []
        let problem = try #require(Self.verify(files))
        #expect(problem.kind == .notARecord && problem.file == "audit.jsonl.2" && problem.line == 6)
    }

    @Test func aForeignFileIsNotAnAuditRecord() throws {
        let problem = try #require(Self.verify([("audit.jsonl", Array("hello\nworld\n".utf8))]))
        #expect(problem.kind == .notARecord && problem.line == 1)
        #expect(problem.description.hasPrefix("audit.jsonl:1: not an audit record: not JSON"))
    }
}
