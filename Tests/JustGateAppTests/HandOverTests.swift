import Foundation
import JustGateCore
import Synchronization
import Testing

/// `serve --replace` as the runbook does it, under load: start the new process on the same config (site and
/// admin listeners both set), stop the old one, and no request fails, `/healthz` always answers, and the
/// audit chain holds one record per answered request.
@Suite(.serialized)
struct HandOverTests {
    let cli = CommandLineTests()

    /// Counts what a client thread saw until told to stop.
    final class Tally: Sendable {
        private let counts = Mutex((ok: 0, failed: 0, lastFailure: ""))
        private let stopping = Atomic(false)

        func record(_ status: Int?, _ failure: String = "") {
            counts.withLock { counts in
                if status == 200 {
                    counts.ok += 1
                } else {
                    counts.failed += 1
                    counts.lastFailure = status.map { "status \($0)" } ?? failure
                }
            }
        }

        var snapshot: (ok: Int, failed: Int, lastFailure: String) { counts.withLock { $0 } }
        var isStopping: Bool { stopping.load(ordering: .acquiring) }
        func stop() { stopping.store(true, ordering: .releasing) }
    }

    /// A thread that sends `request` on a new connection again and again (so every one is accepted anew,
    /// spread by the kernel over both processes' listeners during the hand-over) until told to stop.
    func load(port: Int, request: String, pauseMicros: UInt32, tally: Tally) -> Thread {
        let thread = Thread {
            while !tally.isStopping {
                do {
                    tally.record(try RawHTTPClient(port: port, timeoutSeconds: 5).exchange(request).status)
                } catch {
                    tally.record(nil, "\(error)")
                }
                usleep(pauseMicros)
            }
        }
        thread.start()
        return thread
    }

    func waitFor(_ thread: Thread) {
        let deadline = Date().addingTimeInterval(10)
        while !thread.isFinished && Date() < deadline { usleep(10_000) }
    }

    @Test func aHandOverWithTheAdminListenerSetLosesNoRequest() throws {
        let key = "handover-site-key"
        let environment = ["JUSTGATE_HANDOVER_TOKEN": "handover-token"]
        func config(listen: String, admin: String) throws -> String {
            try cli.writeTemporary("""
                listen: \(listen)
                admin_listen: \(admin)
                server: { workers: 2 }
                upstream: { url: sandbox }
                sites:
                  - id: handover-site
                    key_sha256: "\(SiteKeys.sha256Hex(key))"
                    upstream_token: { env: JUSTGATE_HANDOVER_TOKEN }
                """)
        }
        let directory = try cli.makeWorkingDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var old = try cli.startServe(config: try config(listen: "127.0.0.1:0", admin: "127.0.0.1:0"), environment: environment,
                                     directory: directory)
        let port = try #require(old.port, "no start-up line in: \(old.log)")
        let adminPort = try #require(old.log.range(of: "\"admin_listen\":\"127.0.0.1:").flatMap {
            Int(old.log[$0.upperBound...].prefix { $0.isNumber })
        }, "no admin address in: \(old.log)")

        let requests = Tally(), probes = Tally()
        let site = load(port: port, request: "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
                        + "X-AUTH-TOKEN: \(key)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", pauseMicros: 2_000, tally: requests)
        let health = load(port: adminPort, request: "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                          pauseMicros: 20_000, tally: probes)
        defer {
            requests.stop()
            probes.stop()
            waitFor(site)
            waitFor(health)
        }
        usleep(300_000)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let process = try ChildProcess(CommandLineTests.binary.path,
                                       ["serve", "--config", try config(listen: "127.0.0.1:\(port)", admin: "127.0.0.1:\(adminPort)"),
                                        "--replace"], environment: merged, directory: directory)
        var new = CommandLineTests.RunningServe(process: process, log: process.readStderr(until: "justgate started", timeoutSeconds: 10),
                                                directory: directory)
        #expect(new.log.contains("justgate started"), "the new process did not start: \(new.log)")
        usleep(300_000)
        #expect(old.stop() == 0, "\(old.log)")
        usleep(300_000)
        requests.stop()
        probes.stop()
        waitFor(site)
        waitFor(health)
        let answered = requests.snapshot
        #expect(answered.failed == 0, "\(answered.failed) of \(answered.ok + answered.failed) requests failed; last: \(answered.lastFailure)")
        #expect(answered.ok > 50)
        let probed = probes.snapshot
        #expect(probed.failed == 0, "\(probed.failed) of \(probed.ok + probed.failed) health probes failed; last: \(probed.lastFailure)")
        #expect(new.stop() == 0, "\(new.log)")

        let verify = try cli.run(["audit", "verify", "--dir", directory + "/var/audit"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let records = try String(contentsOfFile: directory + "/var/audit/audit.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"operation\":\"profile.create\"") }
        #expect(records.count == answered.ok, "every answered request has exactly one record")
    }
}
