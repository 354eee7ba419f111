import Foundation
import JustGateHTTP
import Testing

@testable import JustGateApp
@testable import JustGateCore
@testable import JustGateServer

/// The pipeline's stages as plain functions: no sockets, no event loop, no libcurl. A shared
/// store that answers when the test says so stands in for Redis.
@Suite struct PipelineStageTests {
    static let key = "pipeline-key-0123456789abcdefghijklmnop"

    /// A shared quota store that keeps its callers waiting until `answer` is called.
    final class HeldStore: SharedQuotaStore {
        var isUsable = true
        var waiting: [(QuotaVerdict?) -> Void] = []
        var checksSeen: [[QuotaCheck]] = []
        let memory = MemoryQuotaStore(maxKeys: 1000)

        func admit(_ checks: [QuotaCheck], completion: @escaping (QuotaVerdict?) -> Void) {
            checksSeen.append(checks)
            waiting.append { verdict in completion(verdict) }
        }

        /// Answers the oldest caller: decided by a memory store (as Redis would), or failed.
        func answer(failing: Bool = false) {
            let completion = waiting.removeFirst()
            let checks = checksSeen.removeFirst()
            completion(failing ? nil : memory.admit(checks, now: 0))
        }
    }

    static func pipeline(limits: String, store: (any SharedQuotaStore)? = nil,
                         onError: RateLimitBackendErrorPolicy = .deny) throws -> RequestPipeline {
        let yaml = """
            listen: 127.0.0.1:0
            upstream: { url: "http://127.0.0.1:1" }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(key))"
                upstream_token: { value: "token" }
                limits:
            \(limits)
            """
        let config = try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get().config
        let sites = try SecretResolver.resolve(config.sites, environment: FixedSecretEnvironment(values: [:])).get()
        let context = GatewayContext(config: config, sites: sites, upstreamBaseURL: "http://127.0.0.1:1")
        let gate = QuotaGate(memory: MemoryQuotaStore(maxKeys: 1000), redis: store, onBackendError: onError, loop: nil)
        return RequestPipeline(contextStore: GatewayContextStore(context), quota: gate, wallClock: { 1_700_000_000 })
    }

    static func request(_ target: String, key: String = PipelineStageTests.key) -> ServerRequest {
        let head = HTTPRequestHead(method: "GET", target: target, versionMinor: 1,
                                   headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: key)],
                                   keepAlive: true, framing: .none, expectsContinue: false)
        return ServerRequest(head: head, body: [], remoteAddress: "127.0.0.1", receivedAtNanos: 0)
    }

    static let segments = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"

    @Test func memoryLimitAnswersAtOnce() throws {
        let pipeline = try Self.pipeline(limits: "      - { name: one, scope: site, rate: 1/h }")
        guard case .forward(let call, let record, _) = pipeline.prepare(Self.request(Self.segments)) else {
            Issue.record("the first request should be forwarded")
            return
        }
        #expect(call.method == "GET")
        #expect(record.addedHeaders.map(\.name) == ["RateLimit-Policy", "RateLimit"])
        guard case .respond(let response, let refused) = pipeline.prepare(Self.request(Self.segments)) else {
            Issue.record("the second request should be refused")
            return
        }
        #expect(response.status == 429)
        #expect(refused.policy == "one")
        #expect(refused.outcome == .rateLimited)
    }

    @Test func aSharedStoreMakesTheRequestWaitThenCarriesOn() throws {
        let store = HeldStore()
        let pipeline = try Self.pipeline(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        guard case .wait(let first, let firstTicket) = pipeline.prepare(Self.request(Self.segments)),
              case .wait(let second, let secondTicket) = pipeline.prepare(Self.request(Self.segments))
        else {
            Issue.record("requests should wait for the shared store")
            return
        }
        var decisions: [PipelineDecision] = []
        first.resume = { decisions.append(pipeline.conclude($0, firstTicket)) }
        second.resume = { decisions.append(pipeline.conclude($0, secondTicket)) }
        #expect(decisions.isEmpty)
        store.answer()
        store.answer()
        #expect(decisions.count == 2)
        guard case .forward = decisions[0], case .respond(let refused, _) = decisions[1] else {
            Issue.record("first forwarded, second refused")
            return
        }
        #expect(refused.status == 429)
    }

    @Test func aFailedSharedStoreFallsBackAsConfigured() throws {
        let store = HeldStore()
        let pipeline = try Self.pipeline(limits: "      - { name: one, scope: site, rate: 1/h }", store: store, onError: .deny)
        guard case .wait(let pending, let ticket) = pipeline.prepare(Self.request(Self.segments)) else {
            Issue.record("the request should wait")
            return
        }
        var status: Int?
        pending.resume = {
            if case .respond(let response, _) = pipeline.conclude($0, ticket) { status = response.status }
        }
        store.answer(failing: true)
        #expect(status == 503)
        // An unusable store is not even asked: the fallback applies at once.
        store.isUsable = false
        guard case .respond(let response, _) = pipeline.prepare(Self.request(Self.segments)) else {
            Issue.record("deny answers at once while the store is down")
            return
        }
        #expect(response.status == 503)
        #expect(store.waiting.isEmpty)
    }

    @Test func unauthenticatedAndUnmatchedRequestsNeverReachTheLimiter() throws {
        let store = HeldStore()
        let pipeline = try Self.pipeline(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        guard case .respond(let unauthorised, _) = pipeline.prepare(Self.request(Self.segments, key: "nope")),
              case .respond(let unknown, _) = pipeline.prepare(Self.request("/api/nothing")),
              case .respond(let invalid, _) = pipeline.prepare(Self.request("/api/user/v1/info/segment/?juid=x"))
        else {
            Issue.record("each is answered by its stage")
            return
        }
        #expect([unauthorised.status, unknown.status, invalid.status] == [Int]([401, 404, 422]))
        #expect(store.checksSeen.isEmpty)
    }
}
