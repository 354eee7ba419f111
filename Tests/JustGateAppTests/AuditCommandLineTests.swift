import Foundation
import JustGateCore
import Testing

/// `justgate audit …` and the audit log of `justgate serve`, run as the real binary.
@Suite(.serialized)
struct AuditCommandLineTests {
    static let key = "cli-audit-key-0123456789abcdef"
    let cli = CommandLineTests()

    /// A fresh directory with an audit log of `count` records in files of `perFile`.
    func generatedLog(count: Int, perFile: Int = .max, key: String? = AuditCommandLineTests.key) throws -> String {
        let directory = NSTemporaryDirectory() + "justgate-audit-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var chain = AuditChain(hasher: AuditHasher(key: key.map { Array($0.utf8) }))
        var bytes: [UInt8] = []
        var rotated = 0
        let sites = ["horoscope-daily", "news-portal"]
        for index in 0..<count {
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(index) * 60_000))
            record.requestID = "req-\(index)"
            record.site = sites[index % 2]
            record.operation = index % 3 == 0 ? "subscribe.email" : "segments.get"
            record.outcome = index % 5 == 0 ? "rejected_invalid" : "forwarded"
            record.status = index % 5 == 0 ? 422 : 200
            record.durationMicros = 1000 + index
            chain.seal(&record, into: &bytes)
            if (index + 1) % perFile == 0 {
                rotated += 1
                try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/audit.jsonl.\(rotated)"))
                bytes = []
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/audit.jsonl"))
        return directory
    }

    func audit(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        try cli.run(["audit"] + arguments, environment: environment)
    }

    @Test func verifyPassesOnAnIntactLogAndNamesTheFirstBreak() throws {
        let directory = try generatedLog(count: 30, perFile: 10)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let intact = try audit(["verify", "--dir", directory, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("OK: 30 records in 4 files (HMAC-SHA-256); last seq 30"))

        // Without the key an HMAC log can be neither passed nor failed: exit 2, not "BROKEN … edited".
        let withoutKey = try audit(["verify", "--dir", directory])
        #expect(withoutKey.status == 2, "\(withoutKey.stderr)")
        #expect(withoutKey.stderr.contains("KEY NEEDED") && withoutKey.stderr.contains("audit.jsonl.1:1"), "\(withoutKey.stderr)")
        #expect(!withoutKey.stderr.contains("BROKEN"))

        var lines = try String(contentsOfFile: directory + "/audit.jsonl.2", encoding: .utf8).components(separatedBy: "\n")
        lines.remove(at: 4)
        try lines.joined(separator: "\n").write(toFile: directory + "/audit.jsonl.2", atomically: true, encoding: .utf8)
        let deleted = try audit(["verify", "--dir", directory, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(deleted.status == 1)
        #expect(deleted.stderr.contains("BROKEN \(directory)/audit.jsonl.2:5: deleted"), "\(deleted.stderr)")

        try FileManager.default.removeItem(atPath: directory + "/audit.jsonl.2")
        let missing = try audit(["verify", "--dir", directory, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(directory)/audit.jsonl.3:1: file missing"), "\(missing.stderr)")
    }

    @Test func queryFiltersAndPrintsTheStoredLinesOrATable() throws {
        let directory = try generatedLog(count: 20)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let all = try audit(["query", "--dir", directory])
        #expect(all.status == 0)
        #expect(all.stdout == (try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)))

        let filtered = try audit(["query", "--dir", directory, "--site", "news-portal", "--status", "4xx"])
        let records = try filtered.stdout.split(separator: "\n").map { try AuditRecordDecoding.decode(Array($0.utf8)[...]) }
        #expect(records.map(\.requestID) == ["req-5", "req-15"])

        let since = try audit(["query", "--dir", directory, "--since", "2026-11-30T01:10Z", "--until", "2026-11-30T01:12Z", "--format", "table"])
        let rows = since.stdout.split(separator: "\n")
        #expect(rows.count == 3)
        #expect(rows[0].hasPrefix("TIME") && rows[1].contains("req-17") && rows[2].contains("req-18"))
    }

    @Test func summaryCountsBySiteOperationAndOutcome() throws {
        let directory = try generatedLog(count: 30)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let table = try audit(["summary", "--dir", directory])
        #expect(table.status == 0)
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.hasPrefix("SITE") && header.contains("P99_MS"))
        let json = try audit(["summary", "--dir", directory, "--format", "json"])
        guard case .object(let members) = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
              case .array(let groups) = members.first(where: { $0.key == "groups" })?.value
        else {
            Issue.record("not a summary document: \(json.stdout)")
            return
        }
        #expect(members.first?.value == .number("30"))
        var counts = 0
        for case .object(let group) in groups {
            if case .number(let count) = group.first(where: { $0.key == "count" })?.value { counts += Int(count) ?? 0 }
        }
        #expect(counts == 30)
    }

    @Test func badInputIsExitStatus2WithFileAndLine() throws {
        let directory = try generatedLog(count: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let since = try audit(["query", "--dir", directory, "--since", "last tuesday"])
        #expect(since.status == 2)
        #expect(since.stderr.contains("--since 'last tuesday' is not a time"))

        let foreign = directory + "/notes.txt"
        try "hello\nworld\n".write(toFile: foreign, atomically: true, encoding: .utf8)
        let notAudit = try audit(["summary", "--file", foreign])
        #expect(notAudit.status == 2)
        #expect(notAudit.stderr.contains("\(foreign):1: not JSON"), "\(notAudit.stderr)")

        var text = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)
        text += "{\"time\": 5}\n"
        try text.write(toFile: directory + "/audit.jsonl", atomically: true, encoding: .utf8)
        let badLine = try audit(["query", "--dir", directory])
        #expect(badLine.status == 2)
        #expect(badLine.stderr.contains("audit.jsonl:4: not an audit record"), "\(badLine.stderr)")
        let verify = try audit(["verify", "--dir", directory, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("audit.jsonl:4: not an audit record"))

        let missing = try audit(["verify", "--dir", directory + "/nope"])
        #expect(missing.status == 2)
    }

    @Test func tailPrintsTheLastRecordsAndFollowsNewOnes() throws {
        let directory = try generatedLog(count: 12)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let last = try audit(["tail", "--dir", directory, "-n", "3", "--format", "table"])
        #expect(last.status == 0)
        let rows = last.stdout.split(separator: "\n")
        #expect(rows.count == 4 && rows[3].contains("req-11") && rows[1].contains("req-9"))

        let follower = try ChildProcess(CommandLineTests.binary.path, ["audit", "tail", "-f", "-n", "0", "--dir", directory])
        defer {
            follower.signal(SIGKILL)
            _ = follower.wait()
        }
        // The follower may open the file after a first line is written (a loaded machine), and -n 0 then
        // skips it: append again until one is seen, so the test waits for the follower instead of guessing.
        var seen = ""
        for _ in 0..<20 where !seen.contains("follow") {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/audit.jsonl"))
            handle.seekToEndOfFile()
            handle.write(Data("{\"follow\":\"me\"}\n".utf8))
            handle.closeFile()
            seen += follower.readStdout(until: "follow", timeoutSeconds: 0.5)
        }
        #expect(seen.contains("{\"follow\":\"me\"}"))
    }

    /// A log the gateway wrote declares HMAC in its chain_start: without the key, exit 2 saying the key is
    /// needed; a plain log verified without a key says plainly what that check is worth.
    @Test func verifyNeedsTheKeyOfALogThatDeclaresHMACAndSaysWhenItCheckedWithoutOne() throws {
        func declaredLog(key: String?) throws -> String {
            let directory = NSTemporaryDirectory() + "justgate-audit-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var chain = AuditChain(hasher: AuditHasher(key: key.map { Array($0.utf8) }))
            var bytes: [UInt8] = []
            var start = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000), event: .chainStart)
            start.note = "a new audit log; \(AuditSigning(keyed: key != nil).declaration)"
            chain.seal(&start, into: &bytes)
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_001))
            record.requestID = "req-0"
            chain.seal(&record, into: &bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/audit.jsonl"))
            return directory
        }
        let hmac = try declaredLog(key: Self.key)
        let plain = try declaredLog(key: nil)
        defer {
            try? FileManager.default.removeItem(atPath: hmac)
            try? FileManager.default.removeItem(atPath: plain)
        }
        let keyless = try audit(["verify", "--dir", hmac])
        #expect(keyless.status == 2)
        #expect(keyless.stderr.contains("KEY NEEDED") && keyless.stderr.contains("HMAC-SHA-256") && keyless.stderr.contains("--key-env"),
                "\(keyless.stderr)")
        let keyed = try audit(["verify", "--dir", hmac, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(keyed.status == 0 && keyed.stdout.contains("(HMAC-SHA-256)"), "\(keyed.stderr)")

        let plainOK = try audit(["verify", "--dir", plain])
        #expect(plainOK.status == 0)
        #expect(plainOK.stdout.contains("plain SHA-256, checked WITHOUT a key"), "\(plainOK.stdout)")
        // The same plain chain, checked with a key (as a log that should be HMAC is): re-signed without it.
        let rewritten = try audit(["verify", "--dir", plain, "--key-env", "AUDIT_KEY"], environment: ["AUDIT_KEY": Self.key])
        #expect(rewritten.status == 1 && rewritten.stderr.contains("re-signed without the key"), "\(rewritten.stderr)")
    }

    /// A forged audit file whose fields hold ESC, BEL, CR and LF: every table and error message shows them
    /// escaped, so they cannot drive the terminal or forge a line.
    @Test func controlCharactersInRecordsNeverReachTheTerminal() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var bytes: [UInt8] = []
        var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000))
        record.site = "evil\u{1B}]0;pwned\u{07}\u{1B}[2J"
        record.operation = "subscribe.email\r\n2026-01-01T00:00:00.000Z  forged"
        record.outcome = "forwarded\u{9B}31m"
        record.requestID = "id\u{1B}[8m"
        chain.seal(&record, into: &bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/audit.jsonl"))
        func isClean(_ text: String) -> Bool {
            !text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\r" || $0 == "\u{9B}" }
        }
        for arguments in [["summary"], ["query", "--format", "table"], ["tail", "--format", "table"]] {
            let outcome = try audit(arguments + ["--dir", directory])
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
            #expect(isClean(outcome.stdout), "\(arguments)")
            #expect(outcome.stdout.contains(#"evil\x1B]0;pwned\x07\x1B[2J"#), "\(arguments): \(outcome.stdout)")
            #expect(outcome.stdout.split(separator: "\n").count == 2, "\(arguments): one header and one row")
        }
        // An error message that quotes a record's keys.
        try "{\"time\\u001b[31m\":1}\n".write(toFile: directory + "/audit.jsonl", atomically: false, encoding: .utf8)
        let bad = try audit(["summary", "--dir", directory])
        #expect(bad.status == 2)
        #expect(isClean(bad.stderr) && bad.stderr.contains(#"time\x1B[31m"#), "\(bad.stderr)")
    }

    @Test func checkConfigSaysWhenTheChainHasNoKey() throws {
        let withKey = try cli.run(["check-config", "--config", "config/justgate.yaml"])
        #expect(withKey.status == 0)
        #expect(!withKey.stdout.contains("hmac_key is not set"))
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            upstream: { url: sandbox }
            sites:
              - id: a
                key_sha256: "\(SiteKeys.sha256Hex("k"))"
                upstream_token: { value: "t" }
            """)
        let withoutKey = try cli.run(["check-config", "--config", path, "--skip-secrets"])
        #expect(withoutKey.status == 0)
        #expect(withoutKey.stdout.contains("audit.hmac_key is not set, so the audit chain is plain SHA-256"))
    }
}

/// The review commands stream: their peak RSS does not grow with the size of the log, and stays under 64 MiB.
@Suite(.serialized)
struct AuditStreamingTests {
    static let limitKiB = 64 * 1024
    /// Peak RSS may differ by this much between a log and one three times its size (allocator noise); a
    /// reader that kept the log would grow by at least the 16 MiB difference.
    static let growthKiB = 5 * 1024

    /// About 8 MiB of records, written `copies` times into a fresh directory's audit.jsonl.
    func log(copies: Int, block: [UInt8]) throws -> String {
        let directory = NSTemporaryDirectory() + "justgate-audit-big-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/audit.jsonl"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        for _ in 0..<copies { handle.write(Data(block)) }
        handle.closeFile()
        return directory
    }

    func block() -> [UInt8] {
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var bytes: [UInt8] = []
        var template = AuditRecord(time: "2026-11-29T17:00:00.000Z")
        template.site = "horoscope-daily"
        template.method = "POST"
        template.path = "/api/user/v1/subscription/subscribe/email"
        template.client = "203.0.113.9"
        template.juid = "de6f0132ea9e412599ae31262c45633b"
        template.email = "e***@example.com"
        let operations = ["subscribe.email", "segments.get", "action.save", "profile.create"]
        for index in 0..<13_000 {
            var record = template
            record.time = AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(index) * 1000)
            record.requestID = "request-\(index)-0123456789abcdef"
            record.operation = operations[index % operations.count]
            record.outcome = index % 7 == 0 ? "rejected_invalid" : "forwarded"
            record.status = index % 7 == 0 ? 422 : 200
            record.durationMicros = 300 + index % 30_000
            chain.seal(&record, into: &bytes)
        }
        return bytes
    }

    /// Peak RSS in KiB of `justgate audit <arguments> --dir <directory>`.
    func peakKiB(_ arguments: [String], directory: String) throws -> Int {
        let outcome = try ChildProcess.run("/usr/bin/time", ["-f", "peak_kib=%M", CommandLineTests.binary.path, "audit"]
                                           + arguments + ["--dir", directory])
        #expect(outcome.status == 0, "\(arguments): \(outcome.stderr.suffix(300))")
        let peak = outcome.stderr.range(of: "peak_kib=").flatMap { Int(outcome.stderr[$0.upperBound...].prefix { $0.isNumber }) }
        return try #require(peak, "no peak RSS from /usr/bin/time (Debian package time): \(outcome.stderr.suffix(300))")
    }

    @Test func querySummaryAndReportDoNotGrowWithTheLog() throws {
        let block = block()
        #expect(block.count > 8 << 20)
        let small = try log(copies: 1, block: block)
        let large = try log(copies: 3, block: block)
        defer {
            try? FileManager.default.removeItem(atPath: small)
            try? FileManager.default.removeItem(atPath: large)
        }
        let report = NSTemporaryDirectory() + "justgate-big-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: report) }
        for arguments in [["summary"], ["query", "--status", "4xx"], ["report", "--html", report]] {
            let smallPeak = try peakKiB(arguments, directory: small)
            let largePeak = try peakKiB(arguments, directory: large)
            #expect(largePeak - smallPeak < Self.growthKiB, "\(arguments): \(smallPeak) KiB on 8 MiB, \(largePeak) KiB on 24 MiB")
            #expect(largePeak < Self.limitKiB, "\(arguments): peak RSS \(largePeak) KiB")
        }
    }
}
