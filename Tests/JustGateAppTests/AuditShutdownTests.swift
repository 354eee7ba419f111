import Foundation
import JustGateCore
import Testing

/// What the audit log holds when `justgate serve` stops under load: cleanly (SIGTERM) or not at all (kill -9).
@Suite(.serialized)
struct AuditShutdownTests {
    static let siteKey = "audit-shutdown-site-key"
    static let auditKey = "audit-shutdown-hmac-key-0123456789"
    let cli = CommandLineTests()

    /// Request ids of answers received in full, from several client threads.
    final class Answered: @unchecked Sendable {
        // @unchecked: `ids` is only touched under `lock`.
        private let lock = NSLock()
        private var ids: [String] = []
        func add(_ id: String) { lock.withLock { ids.append(id) } }
        var all: [String] { lock.withLock { ids } }
    }

    func config(directory: String) throws -> String {
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            server: { workers: 2 }
            sites:
              - id: load-site
                key_sha256: "\(SiteKeys.sha256Hex(Self.siteKey))"
                upstream_token: { env: AUDIT_SHUTDOWN_TOKEN }
            audit:
              path: \(directory)/audit.jsonl
              hmac_key: { env: AUDIT_SHUTDOWN_KEY }
            """)
    }

    var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(
            ["AUDIT_SHUTDOWN_TOKEN": "audit-shutdown-upstream-token", "AUDIT_SHUTDOWN_KEY": Self.auditKey]) { _, new in new }
    }

    /// Starts `clients` threads that send requests on keep-alive connections until the gateway goes away.
    func load(port: Int, clients: Int, answered: Answered) -> [Thread] {
        (0..<clients).map { _ in
            let thread = Thread {
                guard let client = try? RawHTTPClient(port: port) else { return }
                while true {
                    let request = "GET /api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b HTTP/1.1\r\n"
                        + "Host: a\r\nX-AUTH-TOKEN: \(AuditShutdownTests.siteKey)\r\n\r\n"
                    guard let response = try? client.exchange(request), let id = response.header("X-Request-Id") else { return }
                    answered.add(id)
                }
            }
            thread.start()
            return thread
        }
    }

    func recordedIDs(_ directory: String) throws -> Set<String> {
        let text = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { try? AuditRecordDecoding.decode(Array($0.utf8)[...]).requestID })
    }

    @Test func startUpLogsTheEffectiveConfigWithSecretsAsTheirSource() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-config-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", try config(directory: directory)],
                                       environment: environment)
        var log = process.readStderr(until: "effective config", timeoutSeconds: 10)
        process.signal(SIGTERM)
        log += process.readToEnd().stderr
        _ = process.wait()
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"message\":\"effective config\"") })
        #expect(line.contains("\"upstream_token\":\"<redacted: env AUDIT_SHUTDOWN_TOKEN>\""))
        #expect(line.contains("\"hmac_key\":\"<redacted: env AUDIT_SHUTDOWN_KEY>\""))
        #expect(line.contains("\"fsync\":\"interval\"") && line.contains("\"max_connections\":16384"))
        #expect(!log.contains("audit-shutdown-upstream-token") && !log.contains(Self.auditKey) && !log.contains(Self.siteKey))
        #expect(log.components(separatedBy: "effective config").count == 2)
    }

    @Test func afterSIGTERMEveryAnsweredRequestHasItsRecord() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-term-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", try config(directory: directory)],
                                       environment: environment)
        let log = process.readStderr(until: "justgate started", timeoutSeconds: 10)
        let port = try #require(log.range(of: "\"listen\":\"127.0.0.1:").flatMap { Int(log[$0.upperBound...].prefix { $0.isNumber }) })
        let answered = Answered()
        _ = load(port: port, clients: 4, answered: answered)
        usleep(400_000)
        process.signal(SIGTERM)
        _ = process.readToEnd()
        #expect(process.wait() == 0)
        usleep(100_000)
        let ids = answered.all
        #expect(ids.count > 10)
        let recorded = try recordedIDs(directory)
        let missing = ids.filter { !recorded.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) of \(ids.count) answered requests have no audit record")
        let verify = try cli.run(["audit", "verify", "--dir", directory, "--key-env", "AUDIT_SHUTDOWN_KEY"], environment: environment)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func afterKill9TheNextStartReportsAtMostOneTornLineAndTheChainVerifies() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-kill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try config(directory: directory)
        let first = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path], environment: environment)
        let log = first.readStderr(until: "justgate started", timeoutSeconds: 10)
        let port = try #require(log.range(of: "\"listen\":\"127.0.0.1:").flatMap { Int(log[$0.upperBound...].prefix { $0.isNumber }) })
        let answered = Answered()
        _ = load(port: port, clients: 4, answered: answered)
        usleep(400_000)
        first.signal(SIGKILL)
        _ = first.wait()
        usleep(100_000)
        #expect(answered.all.count > 10)

        let second = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path], environment: environment)
        var restartLog = second.readStderr(until: "justgate started", timeoutSeconds: 10)
        second.signal(SIGTERM)
        restartLog += second.readToEnd().stderr
        #expect(second.wait() == 0)
        #expect(restartLog.components(separatedBy: "torn last line").count - 1 <= 1)
        let verify = try cli.run(["audit", "verify", "--dir", directory, "--key-env", "AUDIT_SHUTDOWN_KEY"], environment: environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func aTornLineLeftByACrashIsReportedAtStartAndVerifyAcceptsTheRestart() throws {
        let directory = NSTemporaryDirectory() + "justgate-audit-torn-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try config(directory: directory)
        let first = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path], environment: environment)
        _ = first.readStderr(until: "justgate started", timeoutSeconds: 10)
        first.signal(SIGTERM)
        _ = first.readToEnd()
        _ = first.wait()
        // What a crash in the middle of write(2) leaves: the start of a line and no newline.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/audit.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2026-11-29T17:02:03.456Z\",\"seq\":2,\"ev".utf8))
        handle.closeFile()

        let second = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path], environment: environment)
        var restartLog = second.readStderr(until: "justgate started", timeoutSeconds: 10)
        second.signal(SIGTERM)
        restartLog += second.readToEnd().stderr
        _ = second.wait()
        #expect(restartLog.contains("torn last line at \(directory)/audit.jsonl:2"), "\(restartLog)")
        let verify = try cli.run(["audit", "verify", "--dir", directory, "--key-env", "AUDIT_SHUTDOWN_KEY"], environment: environment)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("an unreadable (torn) line"))
    }
}
