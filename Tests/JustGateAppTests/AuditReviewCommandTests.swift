import Foundation
import JustGateCore
import Testing

/// The review conveniences of `justgate audit`: a request found by its id, tail filtered like query,
/// relative and local times, outcomes checked against the list, and the report's chain verdict.
@Suite(.serialized)
struct AuditReviewCommandTests {
    let log = AuditCommandLineTests()

    @Test func aRequestIsFoundByItsIDAndTailTakesTheQueryFilters() throws {
        let directory = try log.generatedLog(count: 20)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let one = try log.audit(["query", "--dir", directory, "--request-id", "req-7", "--format", "table"])
        #expect(one.status == 0, "\(one.stderr)")
        let rows = one.stdout.split(separator: "\n")
        #expect(rows.count == 2 && rows[1].contains("req-7"))

        // Even indexes are horoscope-daily; the last three of them are 14, 16 and 18.
        let tail = try log.audit(["tail", "--dir", directory, "-n", "3", "--site", "horoscope-daily"])
        #expect(tail.status == 0, "\(tail.stderr)")
        let ids = try tail.stdout.split(separator: "\n").map { try AuditRecordDecoding.decode(Array($0.utf8)[...]).requestID }
        #expect(ids == ["req-14", "req-16", "req-18"])
    }

    @Test func relativeAndLocalTimesAreTimesAndUnknownOutcomesAreNamed() throws {
        let directory = try log.generatedLog(count: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The generated records are from 2026-11-30, long before "1h ago" on any machine running this test
        // after that day; and all of them are after "3650d ago".
        let recent = try log.audit(["query", "--dir", directory, "--since", "1h ago"])
        #expect(recent.status == 0 && recent.stdout.isEmpty, "\(recent.stderr)")
        let decade = try log.audit(["query", "--dir", directory, "--since", "3650d"])
        #expect(decade.stdout.split(separator: "\n").count == 5)
        // 2026-11-30T00:53:20Z is 03:53:20 in Moscow (no DST there).
        let local = try log.audit(["query", "--dir", directory, "--since", "2026-11-30 03:55"], environment: ["TZ": "Europe/Moscow"])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(local.stdout.split(separator: "\n").count == 3, "\(local.stdout)")
        let outcome = try log.audit(["query", "--dir", directory, "--outcome", "forwared"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("--outcome 'forwared' is not an outcome; use one of forwarded,"))
    }

    @Test func theReportStatesTheChainVerdictFirst() throws {
        let directory = try log.generatedLog(count: 10)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = directory + "/report.html"
        let keyed = try log.audit(["report", "--html", page, "--dir", directory, "--key-env", "AUDIT_KEY"],
                                  environment: ["AUDIT_KEY": AuditCommandLineTests.key])
        #expect(keyed.status == 0, "\(keyed.stderr)")
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("Hash chain intact: 10 records in 1 file (HMAC-SHA-256)"))

        var lines = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8).components(separatedBy: "\n")
        lines[3] = lines[3].replacingOccurrences(of: "\"status\":200", with: "\"status\":201")
        try lines.joined(separator: "\n").write(toFile: directory + "/audit.jsonl", atomically: true, encoding: .utf8)
        _ = try log.audit(["report", "--html", page, "--dir", directory, "--key-env", "AUDIT_KEY"],
                          environment: ["AUDIT_KEY": AuditCommandLineTests.key])
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Hash chain BROKEN: ") && html.contains("audit.jsonl:4: edited"), "\(html.prefix(1500))")

        // Without the key, an HMAC log is not called broken: the page says the key is needed.
        _ = try log.audit(["report", "--html", page, "--dir", directory])
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("Hash chain not checked: "))

        _ = try log.audit(["report", "--html", page, "--dir", directory, "--skip-verify"])
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("Hash chain not checked: --skip-verify"))
    }

    @Test func theTableSaysWhyARequestWasRefused() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-table-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var bytes: [UInt8] = []
        var limited = AuditRecord(time: "2026-11-30T01:00:00.000Z")
        limited.requestID = "limited-1"
        limited.outcome = "rate_limited"
        limited.status = 429
        limited.policy = "sms-per-number"
        chain.seal(&limited, into: &bytes)
        var invalid = AuditRecord(time: "2026-11-30T01:00:01.000Z")
        invalid.requestID = "invalid-1"
        invalid.outcome = "rejected_invalid"
        invalid.status = 422
        invalid.errors = [AuditFieldError(field: "email", code: "invalid_email"), AuditFieldError(field: nil, code: "unknown_field")]
        chain.seal(&invalid, into: &bytes)
        var failed = AuditRecord(time: "2026-11-30T01:00:02.000Z")
        failed.requestID = "failed-1"
        failed.outcome = "upstream_error"
        failed.status = 503
        failed.reason = "circuit_open"
        chain.seal(&failed, into: &bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/audit.jsonl"))
        let table = try log.audit(["query", "--dir", directory, "--format", "table"])
        let rows = table.stdout.split(separator: "\n")
        #expect(rows.count == 4 && rows[0].hasSuffix("DETAIL"), "\(table.stdout)")
        #expect(rows[3].hasSuffix("reason=circuit_open"))
        #expect(rows[1].contains("limited-1") && rows[1].hasSuffix("policy=sms-per-number"))
        #expect(rows[2].hasSuffix("errors=email:invalid_email,(unknown):unknown_field"), "\(rows[2])")
    }
}
