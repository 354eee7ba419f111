import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer
import JustGateUpstream
import Testing

/// `OutboxLane`, the request-path hook's API, used from an event loop as the hook will use it: a tiny handler
/// defers every POST and answers 202 with `Location` once the entry is durable (the completion comes back to
/// the loop through the lane's mailbox), and answers `GET /justgate/v1/deliveries/<id>` for its own site only.
/// The loop's delivery engine then delivers the call to the sandbox.
@Suite(.serialized)
struct OutboxLaneTests {
    /// The hook in miniature: what the driver's deferral phases do with a lane.
    final class DeferringHandler: HTTPHandler {
        let lane: OutboxLane
        let siteID: String

        init(lane: OutboxLane, siteID: String) {
            self.lane = lane
            self.siteID = siteID
        }

        /// The miniature hook records nothing.
        func serverAnswered(_ answer: ServerAnswer) {}

        func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
            let path = String(request.head.path)
            if request.head.method == "GET", path.hasPrefix("/justgate/v1/deliveries/") {
                let site = request.head.value(for: "X-Site") ?? ""
                lane.status(id: String(path.dropFirst(24)), siteID: site) { read in
                    guard case .success(let status?) = read else {
                        responder.respond(HTTPResponse(status: 404, headers: [], body: []))
                        return
                    }
                    responder.respond(HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json")],
                                                   body: status.json))
                }
                return
            }
            let juid = String(decoding: request.body, as: UTF8.self).split(separator: "&")
                .first { $0.hasPrefix("juid=") }.map { String($0.dropFirst(5)) } ?? ""
            let call = DeferredCall(siteID: siteID, operationID: "subscribe.email", juid: juid, method: "POST",
                                    target: "/api/user/v1/subscription/subscribe/email", body: request.body,
                                    contentType: "application/x-www-form-urlencoded", requestID: "lane-test")
            lane.keep(call) { result in
                switch result {
                case .success(let entry):
                    responder.respond(HTTPResponse(
                        status: 202, headers: [HTTPHeader(name: "Location", value: DeliveryStatus.location(of: entry.id))],
                        body: DeliveryStatus.acceptedJSON(id: entry.id)))
                case .failure(let refusal):
                    responder.respond(HTTPResponse(status: 503, headers: [], body: Array(refusal.description.utf8)))
                }
            }
        }
    }

    @Test func aDeferredCallIsAcknowledgedOnItsLoopAndDelivered() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = try OutboxDeliveryTests.sandbox()
        defer { sandbox.stop() }
        let gateway = try GatewayFixture(upstream: sandbox.baseURL)
        let juid = try OutboxDeliveryTests.createProfile(gateway)
        var config = OutboxConfig()
        config.path = directory.path + "/outbox"
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        let contexts = gateway.runtime.contextStore
        let server = HTTPServer(configuration: ServerConfiguration(address: try #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                                                   workers: 1)) { loop in
            let client = try UpstreamClient(loop: loop, configuration: UpstreamClientConfiguration())
            let upstream = ResilientUpstream(client: client, loop: loop,
                                             guards: UpstreamGuards(circuit: CircuitConfig(), retries: RetryConfig(),
                                                                    maxInFlight: 64),
                                             retries: RetryConfig())
            let lane = try OutboxLane(store: store, loop: loop, upstream: upstream, contexts: contexts, floorPerSecond: 200)
            lane.engine.start()
            return DeferringHandler(lane: lane, siteID: "horoscope-daily")
        }
        let address = try server.start()
        defer { server.stop() }

        let body = "juid=\(juid)&email=lane%40example.com"
        let accepted = try RawHTTPClient(port: address.port).exchange(
            "POST /defer HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(accepted.status == 202)
        let location = try #require(accepted.header("Location"))
        let id = String(location.dropFirst("/justgate/v1/deliveries/".count))
        #expect(accepted.text == "{\"id\":\"\(id)\",\"state\":\"pending\"}")
        #expect(store.entry(id: id) != nil)   // durable before the 202

        let delivered = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"delivered\"") }) {
            (try? RawHTTPClient(port: address.port).exchange(
                "GET \(location) HTTP/1.1\r\nHost: x\r\nX-Site: horoscope-daily\r\n\r\n").text) ?? ""
        }
        #expect(delivered.hasPrefix("{\"id\":\"\(id)\",\"state\":\"delivered\",\"attempts\":1,\"next_attempt_at\":null,"
                                    + "\"upstream_status\":200"))
        let otherSite = try RawHTTPClient(port: address.port).exchange(
            "GET \(location) HTTP/1.1\r\nHost: x\r\nX-Site: news-portal\r\n\r\n")
        #expect(otherSite.status == 404)
        #expect(sandbox.api.receivedRequests().contains { $0.path.hasSuffix("/subscribe/email") && $0.token == GatewayFixture.horoscopeToken })
    }
}
