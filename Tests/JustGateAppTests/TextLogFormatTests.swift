import Foundation
import JustGateApp
import JustGateCore
import Testing

/// `log.format: text`: the same fields as the JSON line, readable at a terminal.
@Suite(.serialized)
struct TextLogFormatTests {
    @Test func aJSONLineBecomesTimeLevelLoggerMessageAndFields() {
        let json = #"{"time":"2026-11-29T17:02:03.456Z","level":"error","logger":"justgate","message":"request","duration_ms":1.250,"errors":["a b"],"outcome":"upstream_error","path":"/x y","status":502}"#
        let plain = String(decoding: TextLogLine(colour: false).render(Array(json.utf8)), as: UTF8.self)
        #expect(plain == #"2026-11-29T17:02:03.456Z ERROR   justgate: request duration_ms=1.250 errors=["a b"] outcome=upstream_error path="/x y" status=502"#)
        let coloured = String(decoding: TextLogLine(colour: true).render(Array(json.utf8)), as: UTF8.self)
        #expect(coloured.contains("\u{1B}[31mERROR   \u{1B}[0m"))
        #expect(TextLogLine(colour: false).render(Array("not json".utf8)) == Array("not json".utf8))
    }

    @Test func theLoaderReadsTheFormatAndRefusesOthers() throws {
        let base = """
            listen: 127.0.0.1:8080
            upstream: { url: sandbox }
            sites:
              - id: a
                key_sha256: "\(SiteKeys.sha256Hex("k"))"
                upstream_token: { env: T }
            """
        let text = try ConfigLoader.load(yaml: base + "\nlog: { level: debug, format: text, requests: errors }\n", knownOperations: Catalogue().ids).get()
        #expect(text.config.log == LogConfig(level: .debug, format: .text, requests: .errors))
        guard case .failure(let errors) = ConfigLoader.load(yaml: base + "\nlog: { format: xml, level: loud }\n", knownOperations: Catalogue().ids) else {
            Issue.record("log.format: xml was accepted")
            return
        }
        #expect(errors.problems.contains { $0.path == "log.format" && $0.message.contains("json, text") })
        #expect(errors.problems.contains { $0.path == "log.level" })
    }

    @Test func serveWritesTextLinesWhenAsked() throws {
        let cli = CommandLineTests()
        let directory = NSTemporaryDirectory() + "justgate-text-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: text-site
                key_sha256: "\(SiteKeys.sha256Hex("text-site-key"))"
                upstream_token: { env: TEXT_LOG_TOKEN }
            audit: { path: \(directory)/audit.jsonl }
            log: { format: text }
            """)
        let process = try ChildProcess(CommandLineTests.binary.path, ["serve", "--config", path],
                                       environment: ProcessInfo.processInfo.environment.merging(["TEXT_LOG_TOKEN": "t0ken"]) { _, new in new })
        let started = process.readStderr(until: "justgate started", timeoutSeconds: 10)
        process.signal(SIGTERM)
        let log = started + process.readToEnd().stderr
        _ = process.wait()
        #expect(log.contains("INFO    justgate: justgate started "), "\(log)")
        #expect(log.contains("listen=127.0.0.1:"))
        #expect(!log.contains("{\"time\""))
        #expect(!log.contains("\u{1B}["))  // stderr is a pipe here, not a terminal
    }
}
