import Foundation
import JustGateApp
import JustGateCore
import JustGateSandbox
import JustGateServer
import JustGateReactor
import Testing

/// The sandbox's reference fidelity as a site sees it: through the gateway, over a socket, and from the CLI.
@Suite(.serialized)
struct SandboxFidelityTests {
    /// A site can send `push` UTM updates through the gateway: the catalogue's channel rule takes it and the
    /// sandbox accepts it.
    @Test func pushUTMUpdateGoesThroughTheGateway() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send(
            "PUT", "/api/user/v1/subscription/update/utm-metric/channel/PUSH",
            contentType: "application/x-www-form-urlencoded",
            body: "data=%7B%22email%22%3A%22a%40b.io%22%2C%22refid%22%3A%22ch-push%22%7D")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.text == "Metrics updated")
        let upstream = try #require(gateway.runtime.sandbox?.api.receivedRequests().last)
        #expect(upstream.path == "/api/user/v1/subscription/update/utm-metric/channel/push")
    }

    /// The empty success body of subscribe and unsubscribe reaches the site as an empty 200.
    @Test func emptySuccessBodiesAreRelayed() throws {
        let gateway = try GatewayFixture()
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                       contentType: "application/x-www-form-urlencoded", body: "name=Bob")
        let juid = created.text
        let form = "juid=\(juid)&email=a@b.io"
        let subscribe = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email",
                                         contentType: "application/x-www-form-urlencoded", body: form)
        #expect(subscribe.status == 200 && subscribe.body.isEmpty, "\(subscribe.text)")
        let unsubscribe = try gateway.send("PUT", "/api/user/v1/subscription/unsubscribe/email",
                                           contentType: "application/x-www-form-urlencoded", body: form)
        #expect(unsubscribe.status == 200 && unsubscribe.body.isEmpty, "\(unsubscribe.text)")
    }

    /// `SandboxServer(failures:)` answers the forced error over a real socket, to every channel of the operation.
    @Test func sandboxServerAnswersForcedErrors() throws {
        let address = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        let server = try SandboxServer(
            listen: address, tokens: ["t"],
            failures: try SandboxFailures(parsing: ["stat.by_refid=Error service", "stat.count_by_refid=Error query"]))
        defer { server.stop() }
        for channel in ["sms", "email"] {
            let service = try RawHTTPClient(port: server.address.port).exchange(
                "GET /api/user/v1/info/stat-by-refid/channel/\(channel)?start=2020-08-11%2020:38:49&end=2020-11-29%2000:27:52"
                    + " HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: t\r\n\r\n")
            #expect(service.status == 503)
            #expect(service.text == "Error service")
        }
        let query = try RawHTTPClient(port: server.address.port).exchange(
            "GET /api/user/v1/stat/get-count-refid/sms?startDate=1642137171&endDate=1655183571 HTTP/1.1\r\n"
                + "Host: x\r\nX-AUTH-TOKEN: t\r\n\r\n")
        #expect(query.status == 500)
        #expect(query.text == "Error query")
    }

    /// `--fail` and the sandbox's error texts name operations exactly as the gateway's catalogue does.
    @Test func failSwitchOperationIDsAreTheCatalogueIDs() {
        #expect(Set(SandboxErrorText.byOperation.map(\.operation)) == Catalogue().ids)
    }

    func runCLI(_ arguments: [String]) throws -> ChildProcess.Outcome {
        try ChildProcess.run(CommandLineTests.binary.path, arguments, directory: CommandLineTests.repositoryRoot.path)
    }

    /// A bad `--fail` stops start-up with a message naming the allowed operation ids and texts.
    @Test func badFailSwitchIsRefusedWithTheAllowedIDsAndTexts() throws {
        let unknown = try runCLI(["sandbox", "--listen", "127.0.0.1:0", "--fail", "stats=Error query"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains(#""stats" is not an operation id"#), "\(unknown.stderr)")
        for entry in SandboxErrorText.byOperation {
            #expect(unknown.stderr.contains("\(entry.operation): "), "\(entry.operation)")
        }
        #expect(unknown.stderr.contains(#"stat.by_refid: "Invalid start or end date", "Error service", "Error query""#))

        let text = try runCLI(["sandbox", "--listen", "127.0.0.1:0", "--fail", "segments.get=User not found | JUID not found"])
        #expect(text.status != 0)
        #expect(text.stderr.contains(#"use one of "User not found", "JUID not found""#), "\(text.stderr)")

        let shape = try runCLI(["sandbox", "--listen", "127.0.0.1:0", "--fail", "Error query"])
        #expect(shape.status != 0)
        #expect(shape.stderr.contains("--fail expects OPERATION=TEXT"), "\(shape.stderr)")
    }

    /// A running `justgate sandbox --fail` answers the forced text; other operations work normally.
    @Test func runningSandboxCommandAnswersTheForcedText() throws {
        let process = try ChildProcess(CommandLineTests.binary.path, [
            "sandbox", "--listen", "127.0.0.1:0", "--token", "t", "--fail", "unsubscribe.email=Subscription not found",
        ])
        defer {
            process.signal(SIGTERM)
            process.wait()
        }
        let log = process.readStderr(until: "forcing --fail", timeoutSeconds: 10)
        let port = try #require(log.range(of: "listening on http://127.0.0.1:").flatMap {
            Int(log[$0.upperBound...].prefix { $0.isNumber })
        }, "\(log)")
        let created = try RawHTTPClient(port: port).exchange(
            "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: t\r\nContent-Length: 0\r\n\r\n")
        #expect(created.status == 200 && created.text.count == 32, "\(created.text)")
        let body = "juid=\(created.text)&email=a%40b.io"
        let unsubscribe = try RawHTTPClient(port: port).exchange(
            "PUT /api/user/v1/subscription/unsubscribe/email HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: t\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(unsubscribe.status == 404)
        #expect(unsubscribe.text == "Subscription not found")
    }

    /// `justgate sandbox --help` states the sandbox's own choices and status codes.
    @Test func helpDocumentsTheSandboxsChoices() throws {
        let help = try runCLI(["sandbox", "--help"])
        #expect(help.status == 0)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for phrase in ["--fail <OPERATION=TEXT>", "empty body", "35 and 36", "UTC days", "both ends of the range",
                       "under \"\"", "401 \"Invalid token\"", "422 \"Unprocessable Entity\"", "503 \"Error service\"",
                       "joined by \"/\"", "push channel", "stat.by_refid: \"Invalid start or end date\""] {
            #expect(text.contains(phrase), "\(phrase)")
        }
    }
}
