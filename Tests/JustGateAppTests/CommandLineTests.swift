import Foundation
import JustGateCore
import Testing

/// The `justgate` binary itself, as operators run it.
@Suite(.serialized)
struct CommandLineTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL { repositoryRoot.appendingPathComponent(".build/debug/justgate") }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Outcome {
        try ChildProcess.run(CommandLineTests.binary.path, arguments,
                             environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                             directory: CommandLineTests.repositoryRoot.path)
    }

    /// A running `justgate serve` whose stderr is read up to the start-up line.
    struct RunningServe {
        let process: ChildProcess
        var log: String
        /// Its working directory, where the default `audit.path` (`var/audit/audit.jsonl`) puts its audit log.
        var directory = ""
        /// Whether `stop` removes `directory` (made for this process alone by `startServe`).
        var removesDirectory = false

        /// The port from the start-up line's `"listen":"127.0.0.1:<port>"`.
        var port: Int? {
            log.range(of: "\"listen\":\"127.0.0.1:").flatMap { Int(log[$0.upperBound...].prefix { $0.isNumber }) }
        }

        /// SIGTERM, wait, and return the exit status; `log` then holds everything logged.
        mutating func stop() -> Int32 {
            process.signal(SIGTERM)
            log += process.readToEnd().stderr
            let status = process.wait()
            if removesDirectory { try? FileManager.default.removeItem(atPath: directory) }
            return status
        }
    }

    /// Starts `serve` in a fresh working directory (or `directory`): the default `audit.path` is relative, and
    /// an audit log has one writer at a time, so gateways started side by side must not share one by accident.
    /// The directory it makes is removed when the process is stopped; one given is the caller's to remove.
    func startServe(config path: String, environment: [String: String], directory: String? = nil) throws -> RunningServe {
        let workingDirectory = try directory ?? makeWorkingDirectory()
        let process = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path], environment: environment,
                                       directory: workingDirectory)
        let log = process.readStderr(until: "justgate started", timeoutSeconds: 10)
        return RunningServe(process: process, log: log, directory: workingDirectory, removesDirectory: directory == nil)
    }

    func makeWorkingDirectory() throws -> String {
        try SystemTools.temporaryDirectory(prefix: "justgate-serve").path
    }

    func writeTemporary(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "justgate-cli-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func keygenPrintsAKeyAndItsHash() throws {
        let outcome = try run(["keygen", "--site", "news-portal"])
        #expect(outcome.status == 0)
        let lines = outcome.stdout.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let key = try #require(lines.first { $0.count == 43 && !$0.contains(" ") })
        #expect(outcome.stdout.contains("key_sha256: \"\(SiteKeys.sha256Hex(key))\""))
        #expect(outcome.stdout.contains("- id: news-portal"))
    }

    @Test func openapiPrintsTheCheckedInContract() throws {
        let outcome = try run(["openapi"])
        #expect(outcome.status == 0)
        let checkedIn = try String(contentsOf: CommandLineTests.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(outcome.stdout == checkedIn)
    }

    @Test func checkConfigAcceptsTheDemoConfig() throws {
        let outcome = try run(["check-config", "--config", "config/justgate.yaml"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("OK (2 sites"))
        #expect(outcome.stdout.contains("upstream: deadline 10000 ms per request; up to 3 attempts"))
        #expect(outcome.stdout.contains("circuit opens after 5 failed attempts for 10000 ms; at most 1024 calls in flight"))
    }

    @Test func checkConfigListsEveryProblemWithPathAndLine() throws {
        let path = try writeTemporary("""
            listen: 127.0.0.1:8080
            upstream:
              url: ftp://example.com
              colour: blue
            sites:
              - id: a
                key_sha256: "abc"
                upstream_token: { env: X }
            """)
        let outcome = try run(["check-config", "--config", path])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains(":3:"))
        #expect(outcome.stderr.contains("upstream.url"))
        #expect(outcome.stderr.contains("colour"))
        #expect(outcome.stderr.contains(":7:"))
        #expect(outcome.stderr.contains("key_sha256"))
    }

    @Test func aMissingTokenSourceStopsStartupNamingSiteAndSource() throws {
        let path = try writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: lonely-site
                key_sha256: "\(SiteKeys.sha256Hex("some-key"))"
                upstream_token: { env: JUSTGATE_TEST_UNSET_VARIABLE }
            """)
        let outcome = try run(["serve", "--config", path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("lonely-site"))
        #expect(outcome.stderr.contains("JUSTGATE_TEST_UNSET_VARIABLE"))
    }

    @Test func aPublicListenAddressIsWarnedAbout() throws {
        let path = try writeTemporary("""
            listen: 0.0.0.0:0
            upstream: { url: sandbox }
            sites:
              - id: open-site
                key_sha256: "\(SiteKeys.sha256Hex("open-key"))"
                upstream_token: { env: JUSTGATE_CLI_OPEN_TOKEN }
            """)
        var serve = try startServe(config: path, environment: ["JUSTGATE_CLI_OPEN_TOKEN": "open-token"])
        _ = serve.stop()
        let log = serve.log
        #expect(log.contains("non-loopback"))
        #expect(log.contains("\"level\":\"warning\""))
    }

    @Test func serveAnswersAndStopsCleanlyOnSIGTERM() throws {
        let key = "cli-test-site-key"
        let token = "cli-test-upstream-token-VALUE"
        let path = try writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: cli-site
                key_sha256: "\(SiteKeys.sha256Hex(key))"
                upstream_token: { env: JUSTGATE_CLI_TEST_TOKEN }
            """)
        var serve = try startServe(config: path, environment: ["JUSTGATE_CLI_TEST_TOKEN": token])
        let listening = try #require(serve.port, "no start-up line in: \(serve.log)")
        let client = try RawHTTPClient(port: listening)
        let response = try client.exchange("POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
                                           + "X-AUTH-TOKEN: \(key)\r\nContent-Length: 0\r\n\r\n")
        #expect(response.status == 200)
        #expect(serve.stop() == 0)  // SIGTERM drains and exits cleanly
        let log = serve.log
        #expect(log.contains("\"message\":\"stopped\""))
        #expect(!log.contains(token))
        #expect(!log.contains(key))
    }
    @Test func aSecondServeOnABusyAddressExitsNamingItUnlessReplace() throws {
        let key = "cli-busy-site-key"
        func config(listen: String) throws -> String {
            try writeTemporary("""
                listen: \(listen)
                upstream: { url: sandbox }
                sites:
                  - id: busy-site
                    key_sha256: "\(SiteKeys.sha256Hex(key))"
                    upstream_token: { env: JUSTGATE_CLI_BUSY_TOKEN }
                """)
        }
        let environment = ["JUSTGATE_CLI_BUSY_TOKEN": "busy-token"]
        // Both gateways of the hand-over work here (and share its audit log); the refused one works elsewhere.
        let shared = try makeWorkingDirectory()
        let elsewhere = try makeWorkingDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: shared)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        var first = try startServe(config: try config(listen: "127.0.0.1:0"), environment: environment, directory: shared)
        let port = try #require(first.port, "no start-up line in: \(first.log)")
        let busy = try config(listen: "127.0.0.1:\(port)")
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // In a directory of its own: in the first one's, its audit log's lock would stop it before the address.
        let second = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", busy], environment: merged,
                                      directory: elsewhere)
        let secondLog = second.readStderr(until: "justgate started", timeoutSeconds: 10)
        if second.isRunning { second.signal(SIGTERM) }  // it started serving: the bug this test is about
        let secondStatus = second.wait()
        #expect(!secondLog.contains("justgate started"))
        #expect(secondStatus != 0)
        #expect(secondLog.contains("127.0.0.1:\(port)"))
        #expect(secondLog.contains("already listens"))
        // A deliberate hand-over joins the address, and takes the audit log over once the first process stops.
        let replacing = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", busy, "--replace"],
                                         environment: merged, directory: first.directory)
        var handover = RunningServe(process: replacing, log: replacing.readStderr(until: "justgate started", timeoutSeconds: 10),
                                    directory: first.directory)
        #expect(handover.log.contains("justgate started"))
        #expect(handover.log.contains("held by the process being replaced"))
        func ask() throws -> Int {
            try RawHTTPClient(port: port).exchange("POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
                                                   + "X-AUTH-TOKEN: \(key)\r\nContent-Length: 0\r\n\r\n").status
        }
        for _ in 0..<4 { #expect(try ask() == 200) }  // either process may answer; the second queues its records
        #expect(first.stop() == 0)
        for _ in 0..<4 { #expect(try ask() == 200) }  // only the second listens now, and writes the log
        #expect(handover.stop() == 0)
        #expect(handover.log.contains("audit log taken over from the replaced process"), "\(handover.log)")
        let verify = try run(["audit", "verify", "--dir", first.directory + "/var/audit"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let lines = try String(contentsOfFile: first.directory + "/var/audit/audit.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"operation\":\"profile.create\"") }
        #expect(lines.count == 8, "every answered request has its record, from one process or the other")
    }
}
