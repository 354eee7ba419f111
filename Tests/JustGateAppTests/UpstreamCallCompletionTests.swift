import Foundation
import JustGateHTTP
import JustGateReactor
import JustGateServer
import JustGateUpstream
import Testing

/// `UpstreamClient`'s promise: a call's completion runs exactly once, whatever ends it (the answer, a refusal
/// at once, a cancel), and a cancel reaches only the call it was made for, never a later call that reuses the
/// recycled easy handle. Real libcurl on a real event loop, against a loopback upstream.
@Suite(.serialized)
struct UpstreamCallCompletionTests {
    /// Runs one scenario per request on the loop (`GET /<scenario>`) and answers with what the completions saw.
    final class ScenarioHandler: HTTPHandler {
        let client: UpstreamClient
        let loop: EventLoop
        let upstream: String

        init(client: UpstreamClient, loop: EventLoop, upstream: String) {
            self.client = client
            self.loop = loop
            self.upstream = upstream
        }

        func serverAnswered(_ answer: ServerAnswer) {}

        func call(_ base: String? = nil) -> UpstreamRequest {
            UpstreamRequest(method: "GET", baseURL: base ?? upstream, target: "/x", headers: [], body: [])
        }

        static func text(_ result: Result<UpstreamResponse, UpstreamFailure>) -> String {
            switch result {
            case .success(let answer): "\(answer.status)"
            case .failure(.cancelled): "cancelled"
            case .failure: "failed"
            }
        }

        func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
            var seen: [String] = []
            /// Answers with what the completions saw, `afterMs` from now (time for a second completion to show);
            /// the first report wins, the responder ignores the rest.
            let report = { [loop] (afterMs: Int) in
                _ = loop.scheduleTimer(afterMs: afterMs) {
                    responder.respond(HTTPResponse(status: 200, headers: [], body: Array(seen.joined(separator: ",").utf8)))
                }
            }
            // However slow the box, the test gets an answer.
            report(5_000)
            switch String(request.head.path) {
            case "/stale-cancel":
                // The first call ends; its handle is cancelled after a second call took over its easy handle.
                var first: UpstreamCall?
                first = client.send(call()) { [self] result in
                    seen.append("A:" + Self.text(result))
                    _ = client.send(call()) {
                        seen.append("B:" + Self.text($0))
                        report(200)
                    }
                    first?.cancel()
                }
            case "/cancel-twice":
                let pending = client.send(call()) { seen.append("A:" + Self.text($0)) }
                pending.cancel()
                pending.cancel()
                report(500)
            case "/cancel-after-answer":
                var first: UpstreamCall?
                first = client.send(call()) { result in
                    seen.append("A:" + Self.text(result))
                    first?.cancel()
                    report(200)
                }
            case "/refused-at-once":
                let refused = client.send(call("http://[::1")) { seen.append("A:" + Self.text($0)) }
                refused.cancel()
                report(100)
            default:
                responder.respond(HTTPResponse(status: 404, headers: [], body: []))
            }
        }
    }

    static func run(_ scenario: String, answerDelayMs: Int = 0) throws -> String {
        let upstream = try CapturingUpstream(answerDelayMs: answerDelayMs)
        defer { upstream.stop() }
        let base = "http://127.0.0.1:\(upstream.port)"
        let server = HTTPServer(configuration: ServerConfiguration(address: try #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                                                   workers: 1)) { loop in
            ScenarioHandler(client: try UpstreamClient(loop: loop, configuration: UpstreamClientConfiguration()),
                            loop: loop, upstream: base)
        }
        let address = try server.start()
        defer { server.stop() }
        return try RawHTTPClient(port: address.port).exchange("GET /\(scenario) HTTP/1.1\r\nHost: x\r\n\r\n").text
    }

    @Test func aStaleHandleDoesNotCancelTheCallThatReusedItsEasyHandle() throws {
        #expect(try Self.run("stale-cancel") == "A:200,B:200")
    }

    @Test func aCallCancelledTwiceCompletesOnceAsCancelledAndItsAnswerIsDropped() throws {
        #expect(try Self.run("cancel-twice", answerDelayMs: 100) == "A:cancelled")
    }

    @Test func cancellingAnAnsweredCallChangesNothing() throws {
        #expect(try Self.run("cancel-after-answer") == "A:200")
    }

    @Test func aCallRefusedAtOnceCompletesOnce() throws {
        #expect(try Self.run("refused-at-once") == "A:failed")
    }
}
