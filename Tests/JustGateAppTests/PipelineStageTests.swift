import Foundation
import JustGateHTTP
import Testing

@testable import JustGateApp
@testable import JustGateCore
@testable import JustGateServer

/// The request driver's phases without sockets, an event loop or libcurl. A shared
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

    /// A driver without a loop or an upstream: a request stops at `forward` with its call built, and its
    /// answer is kept in its context. Log lines go to /dev/null.
    static func driver(limits: String, store: (any SharedQuotaStore)? = nil,
                       onError: RateLimitBackendErrorPolicy = .deny) throws -> RequestDriver {
        let context = try gatewayContext(siteKey: key, limits: limits)
        let gate = QuotaGate(memory: MemoryQuotaStore(maxKeys: 1000), redis: store, onBackendError: onError, loop: nil)
        let log = RequestLog(sink: LogSink(fd: open("/dev/null", O_WRONLY), flushIntervalMs: 0), label: "test", threshold: .info)
        let exit = RequestExit(log: log, audit: nil, metrics: GatewayMetrics().recorder())
        return RequestDriver(contextStore: GatewayContextStore(context), quota: gate, upstream: nil,
                             idempotency: IdempotencyGate(backend: IdempotencyStore(IdempotencyConfig())), exit: exit,
                             wallClock: { 1_700_000_000 })
    }

    /// The compiled config of one site whose key is `siteKey`.
    static func gatewayContext(siteKey: String, limits: String) throws -> GatewayContext {
        let yaml = """
            listen: 127.0.0.1:0
            upstream: { url: "http://127.0.0.1:1" }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(siteKey))"
                upstream_token: { value: "token" }
                limits:
            \(limits)
            """
        let config = try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get().config
        let sites = try SecretResolver.resolve(config.sites, environment: FixedSecretEnvironment(values: [:])).get()
        return GatewayContext(config: config, sites: sites, upstreamBaseURL: "http://127.0.0.1:1")
    }

    /// Runs one GET request through `driver` as `handle` would, without a connection; returns its context.
    static func run(_ driver: RequestDriver, _ target: String, key: String = PipelineStageTests.key) -> RequestContext {
        let head = HTTPRequestHead(method: "GET", target: target, versionMinor: 1,
                                   headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: key)],
                                   keepAlive: true, framing: .none, expectsContinue: false)
        let context = RequestContext(gateway: driver.contextStore.current, head: head, remoteAddress: "127.0.0.1",
                                     receivedAtNanos: 0)
        driver.run(context)
        return context
    }

    static let segments = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"

    @Test func memoryLimitAnswersAtOnce() throws {
        let driver = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }")
        let first = Self.run(driver, Self.segments)
        #expect(first.phase == .forward)
        #expect(first.call?.method == "GET")
        #expect(first.record.addedHeaders.map(\.name) == ["RateLimit-Policy", "RateLimit"])
        let second = Self.run(driver, Self.segments)
        #expect(second.answer?.status == 429)
        #expect(second.record.policy == "one")
        #expect(second.record.outcome == .rateLimited)
    }

    @Test func aSharedStoreMakesTheRequestWaitThenCarriesOn() throws {
        let store = HeldStore()
        let driver = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        let first = Self.run(driver, Self.segments)
        let second = Self.run(driver, Self.segments)
        #expect(first.phase == .limit && first.isWaiting)
        #expect(second.phase == .limit && second.isWaiting)
        store.answer()
        store.answer()
        #expect(first.phase == .forward)
        #expect(first.call != nil)
        #expect(second.answer?.status == 429)
    }

    @Test func aFailedSharedStoreFallsBackAsConfigured() throws {
        let store = HeldStore()
        let driver = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store, onError: .deny)
        let waiting = Self.run(driver, Self.segments)
        #expect(waiting.isWaiting)
        store.answer(failing: true)
        #expect(waiting.answer?.status == 503)
        // An unusable store is not even asked: the fallback applies at once.
        store.isUsable = false
        let refused = Self.run(driver, Self.segments)
        #expect(refused.answer?.status == 503)
        #expect(store.waiting.isEmpty)
    }

    @Test func unauthenticatedAndUnmatchedRequestsNeverReachTheLimiter() throws {
        let store = HeldStore()
        let driver = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        let statuses = [
            Self.run(driver, Self.segments, key: "nope"),
            Self.run(driver, "/api/nothing"),
            Self.run(driver, "/api/user/v1/info/segment/?juid=x"),
        ].map { $0.answer?.status }
        #expect(statuses == [401, 404, 422])
        #expect(store.checksSeen.isEmpty)
    }

    /// The screen's work is the request's: a request with a body is authenticated and routed once, and
    /// `handle` carries on from its context (same request id, site and operation, no second lookup, the
    /// same config even across a reload).
    @Test func theScreensContextTravelsToHandle() throws {
        let driver = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }")
        let head = HTTPRequestHead(method: "POST", target: "/api/user/v1/info/segment/", versionMinor: 1,
                                   headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: Self.key),
                                             HTTPHeader(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                                   keepAlive: true, framing: .contentLength(38), expectsContinue: false)
        guard case .proceed(let carried) = driver.screen(head, remoteAddress: "127.0.0.1", receivedAtNanos: 0),
              let context = carried as? RequestContext
        else {
            Issue.record("a valid head goes on, carrying its context")
            return
        }
        #expect(context.phase == RequestPhase.screen.following)   // the deliveries read, then validate
        #expect(context.record.siteID == "horoscope-daily")
        #expect(context.record.operationID == "segments.get")
        let requestID = context.record.requestID
        // A reload between the screen and the body (the site's key rotated) does not change the config the
        // request is served under: it was read once, at the screen.
        driver.contextStore.replace(with: try Self.gatewayContext(siteKey: "rotated-" + Self.key, limits: "      []"))
        context.body = Array("juid=de6f0132ea9e412599ae31262c45633b".utf8)
        driver.run(context)
        #expect(context.phase == .forward)
        #expect(context.record.requestID == requestID)
    }
}
