import Foundation
import JustGateCore
import Testing

/// An audit log written before records had `key` and `reason` (by `bench/audit/generate.py --old-format`, the
/// exact line format of that justgate) still verifies, queries and summarises with the current binary; a log in
/// the current format from the same generator does too, with the new keys in it.
@Suite(.serialized)
struct AuditOlderFormatCommandTests {
    static let key = "older-format-audit-key-0123456789"
    let cli = CommandLineTests()

    func generated(count: Int, olderFormat: Bool) throws -> String {
        let directory = NSTemporaryDirectory() + "justgate-audit-older-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = CommandLineTests.repositoryRoot.appendingPathComponent("bench/audit/generate.py").path
        let outcome = try ChildProcess.run("/usr/bin/python3", [script, directory + "/audit.jsonl", String(count), Self.key]
                                           + (olderFormat ? ["--old-format"] : []))
        try #require(outcome.status == 0, "\(outcome.stderr)")
        return directory
    }

    @Test(arguments: [true, false]) func aLogVerifiesQueriesAndSummarises(olderFormat: Bool) throws {
        let directory = try generated(count: 200, olderFormat: olderFormat)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)
        #expect(text.contains(#""key":"#) == !olderFormat)
        #expect(text.contains(#""reason":"connect_refused""#) == !olderFormat)

        let verified = try cli.run(["audit", "verify", "--dir", directory, "--key-env", "AUDIT_KEY"],
                                   environment: ["AUDIT_KEY": Self.key])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("OK: 200 records"), "\(verified.stdout)")

        let queried = try cli.run(["audit", "query", "--dir", directory, "--site", "news-portal", "--outcome", "upstream_error"])
        #expect(queried.status == 0, "\(queried.stderr)")
        let records = try queried.stdout.split(separator: "\n").map { try AuditRecordDecoding.decode(Array($0.utf8)[...]) }
        #expect(!records.isEmpty)
        #expect(records.allSatisfy { $0.site == "news-portal" && $0.outcome == "upstream_error" })
        #expect(records.allSatisfy { $0.reason == (olderFormat ? nil : "connect_refused") })

        let summary = try cli.run(["audit", "summary", "--dir", directory])
        #expect(summary.status == 0, "\(summary.stderr)")
        #expect(summary.stdout.contains("news-portal"))
    }
}
