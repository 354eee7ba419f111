import Foundation
import JustGateHTTP
import JustGateUpstream
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

    /// A client that keeps the answer it is sent; `isActive` false plays a client that left.
    final class HeldClient: ClientLink {
        var answers: [HTTPResponse] = []
        var isActive = true
        var cancels: [() -> Void] = []
        func respond(_ response: HTTPResponse) { answers.append(response) }
        func onCancel(_ handler: @escaping () -> Void) { cancels.append(handler) }
        var status: Int? { answers.count == 1 ? answers[0].status : nil }
    }

    /// An upstream that keeps its callers waiting until `answer` is called.
    final class HeldUpstream: UpstreamCalls {
        final class Call: CancellableCall {
            var cancelled = false
            func cancel() { cancelled = true }
        }
        var calls: [UpstreamRequest] = []
        var waiting: [(Result<UpstreamResponse, UpstreamFailure>, Int) -> Void] = []

        func start(_ call: UpstreamRequest, deadlineMs: Int, idempotent: Bool,
                   completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) -> any CancellableCall {
            calls.append(call)
            waiting.append(completion)
            return Call()
        }

        /// Answers the oldest caller with `status`.
        func answer(_ status: Int = 200) {
            waiting.removeFirst()(.success(UpstreamResponse(status: status, contentType: "application/json", body: Array("[]".utf8))), 1)
        }
    }

    struct Harness {
        let driver: RequestDriver
        let upstream: HeldUpstream
    }

    /// A driver without a loop: a held upstream, answers kept by a held client. Log lines go to /dev/null.
    static func driver(limits: String, store: (any SharedQuotaStore)? = nil,
                       onError: RateLimitBackendErrorPolicy = .deny) throws -> Harness {
        let context = try gatewayContext(siteKey: key, limits: limits)
        let gate = QuotaGate(memory: MemoryQuotaStore(maxKeys: 1000), redis: store, onBackendError: onError, loop: nil)
        let log = RequestLog(sink: LogSink(fd: open("/dev/null", O_WRONLY), flushIntervalMs: 0), label: "test", threshold: .info)
        let exit = RequestExit(log: log, audit: nil, metrics: GatewayMetrics().recorder())
        let upstream = HeldUpstream()
        let driver = RequestDriver(contextStore: GatewayContextStore(context), quota: gate, upstream: upstream,
                                   idempotency: IdempotencyGate(backend: IdempotencyStore(IdempotencyConfig())), exit: exit,
                                   wallClock: { 1_700_000_000 })
        return Harness(driver: driver, upstream: upstream)
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

    /// Runs one GET request through the driver as `handle` does, without a connection; returns its context
    /// (the answer, if any, is in `client`).
    static func run(_ harness: Harness, _ target: String, key: String = PipelineStageTests.key,
                    client: HeldClient = HeldClient()) -> (RequestContext, HeldClient) {
        let head = HTTPRequestHead(method: "GET", target: target, versionMinor: 1,
                                   headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: key)],
                                   keepAlive: true, framing: .none, expectsContinue: false)
        var traces = TracePropagation()
        let context = RequestContext(gateway: harness.driver.contextStore.current, head: head, trace: traces.context(for: head),
                                     remoteAddress: "127.0.0.1", receivedAtNanos: 0, client: client)
        harness.driver.run(context, from: .screen)
        return (context, client)
    }

    static let segments = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"

    @Test func memoryLimitAnswersAtOnce() throws {
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }")
        let (first, firstClient) = Self.run(harness, Self.segments)
        #expect(first.isWaiting)
        #expect(harness.upstream.calls.map(\.method) == ["GET"])
        #expect(first.state.record.addedHeaders.map(\.name) == ["RateLimit-Policy", "RateLimit"])
        harness.upstream.answer(200)
        #expect(firstClient.status == 200)
        #expect(firstClient.answers.first?.headers.contains { $0.name == "RateLimit" } == true)
        let (second, secondClient) = Self.run(harness, Self.segments)
        #expect(secondClient.status == 429)
        #expect(second.state.record.policy == "one")
        #expect(second.state.record.outcome == .rateLimited)
        #expect(harness.upstream.calls.count == 1)
    }

    @Test func aSharedStoreMakesTheRequestWaitThenCarriesOn() throws {
        let store = HeldStore()
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        let (first, _) = Self.run(harness, Self.segments)
        let (second, secondClient) = Self.run(harness, Self.segments)
        #expect(first.isWaiting && second.isWaiting)
        #expect(harness.upstream.calls.isEmpty)
        store.answer()
        store.answer()
        #expect(harness.upstream.calls.count == 1)
        #expect(first.isWaiting)  // now for the upstream
        #expect(secondClient.status == 429)
    }

    @Test func aFailedSharedStoreFallsBackAsConfigured() throws {
        let store = HeldStore()
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store, onError: .deny)
        let (waiting, waitingClient) = Self.run(harness, Self.segments)
        #expect(waiting.isWaiting)
        store.answer(failing: true)
        #expect(waitingClient.status == 503)
        // An unusable store is not even asked: the fallback applies at once.
        store.isUsable = false
        let (_, refused) = Self.run(harness, Self.segments)
        #expect(refused.status == 503)
        #expect(store.waiting.isEmpty)
    }

    @Test func unauthenticatedAndUnmatchedRequestsNeverReachTheLimiter() throws {
        let store = HeldStore()
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }", store: store)
        let statuses = [
            Self.run(harness, Self.segments, key: "nope"),
            Self.run(harness, "/api/nothing"),
            Self.run(harness, "/api/user/v1/info/segment/?juid=x"),
        ].map { $0.1.status }
        #expect(statuses == [401, 404, 422])
        #expect(store.checksSeen.isEmpty)
    }

    /// A client that leaves while the shared limiter decides is not served further: nothing goes upstream,
    /// and the request is recorded as 499.
    @Test func aClientGoneWhileTheLimiterDecidesEndsAs499() throws {
        let store = HeldStore()
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 10/h }", store: store)
        let (context, client) = Self.run(harness, Self.segments)
        client.isActive = false
        store.answer()
        #expect(harness.upstream.calls.isEmpty)
        #expect(client.answers.isEmpty)
        #expect(context.state.record.status == 499)
        #expect(context.state.record.outcome == .clientGone)
    }

    /// A client that leaves while the upstream answers does not turn the answer into 499: the upstream carried
    /// the call out, so the record keeps its status and the outcome `forwarded` (the responder drops the answer).
    @Test func anUpstreamAnswerForAClientThatLeftIsRecordedAsIs() throws {
        let harness = try Self.driver(limits: "      []")
        let (context, client) = Self.run(harness, Self.segments)
        #expect(context.isWaiting)
        client.isActive = false
        harness.upstream.answer(201)
        #expect(context.state.record.status == 201)
        #expect(context.state.record.upstreamStatus == 201)
        #expect(context.state.record.outcome == .forwarded)
    }

    static func postHead() -> HTTPRequestHead {
        HTTPRequestHead(method: "POST", target: "/api/user/v1/info/segment/", versionMinor: 1,
                        headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: Self.key),
                                  HTTPHeader(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                        keepAlive: true, framing: .contentLength(38), expectsContinue: false)
    }

    /// The screen's work is the request's: a request with a body is authenticated and routed once, and
    /// `handle` carries on from its context (same request id, site and operation, no second lookup).
    @Test func theScreensContextTravelsToHandle() throws {
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }")
        let head = Self.postHead()
        guard case .proceed(let carried) = harness.driver.screen(head, remoteAddress: "127.0.0.1", receivedAtNanos: 0),
              let context = carried as? RequestContext
        else {
            Issue.record("a valid head goes on, carrying its context")
            return
        }
        #expect(context.state.record.siteID == "horoscope-daily")
        #expect(context.state.record.operationID == "segments.get")
        let requestID = context.state.record.requestID
        let client = HeldClient()
        let request = ServerRequest(head: head, body: Array("juid=de6f0132ea9e412599ae31262c45633b".utf8),
                                    remoteAddress: "127.0.0.1", receivedAtNanos: 0)
        harness.driver.handle(request, screened: context, client: client)
        #expect(harness.upstream.calls.count == 1)
        #expect(context.state.record.requestID == requestID)
        #expect(harness.upstream.calls.first?.headers.contains { $0.name == "X-Request-Id" && $0.value == requestID } == true)
    }

    /// A reload between the screen (head) and `handle` (body) that revokes the key the request presents: the
    /// request is screened again under the new config and refused, never forwarded under the old one.
    @Test func aReloadBetweenHeadAndBodyAppliesToTheRequest() throws {
        let harness = try Self.driver(limits: "      []")
        let head = Self.postHead()
        guard case .proceed(let carried) = harness.driver.screen(head, remoteAddress: "127.0.0.1", receivedAtNanos: 0) else {
            Issue.record("a valid head goes on, carrying its context")
            return
        }
        // The site's key is replaced by the reload: the old one is revoked.
        harness.driver.contextStore.replace(with: try Self.gatewayContext(siteKey: "rotated-" + Self.key, limits: "      []"))
        let client = HeldClient()
        let request = ServerRequest(head: head, body: Array("juid=de6f0132ea9e412599ae31262c45633b".utf8),
                                    remoteAddress: "127.0.0.1", receivedAtNanos: 0)
        harness.driver.handle(request, screened: carried, client: client)
        #expect(client.status == 401)
        #expect(harness.upstream.calls.isEmpty)
    }

    /// A reload that keeps the key: the request screened again under it keeps the rules for its id (the site's
    /// own sane `X-Request-Id` is the one recorded and forwarded) and is served under the new config.
    @Test func aRequestScreenedAgainKeepsItsOwnRequestID() throws {
        let harness = try Self.driver(limits: "      - { name: one, scope: site, rate: 1/h }")
        var head = Self.postHead()
        head.headers.append(HTTPHeader(name: "X-Request-Id", value: "site-chosen-id-0001"))
        guard case .proceed(let carried) = harness.driver.screen(head, remoteAddress: "127.0.0.1", receivedAtNanos: 0) else {
            Issue.record("a valid head goes on, carrying its context")
            return
        }
        let reloaded = try Self.gatewayContext(siteKey: Self.key, limits: "      []")
        harness.driver.contextStore.replace(with: reloaded)
        let request = ServerRequest(head: head, body: Array("juid=de6f0132ea9e412599ae31262c45633b".utf8),
                                    remoteAddress: "127.0.0.1", receivedAtNanos: 0)
        let client = HeldClient()
        harness.driver.handle(request, screened: carried, client: client)
        let call = try #require(harness.upstream.calls.first)
        #expect(call.headers.contains { $0.name == "X-Request-Id" && $0.value == "site-chosen-id-0001" })
        // Served under the reloaded config: no rate-limit policy, so no RateLimit fields are added.
        harness.upstream.answer(200)
        #expect(client.status == 200)
        #expect(client.answers.first?.headers.contains { $0.name == "RateLimit" } == false)
        #expect(client.answers.first?.headers.contains { $0.name == "X-Request-Id" && $0.value == "site-chosen-id-0001" } == true)
    }

    /// The 502 after a lost connection says how to retry: with the same Idempotency-Key when one was sent,
    /// to send one next time when the operation takes one, otherwise to check first.
    @Test func aLostConnectionsAdviceFollowsTheIdempotencyKey() throws {
        let harness = try Self.driver(limits: "      []")
        func detail(_ method: String, _ target: String, _ headers: [HTTPHeader], body: String) throws -> String {
            let head = HTTPRequestHead(method: method, target: target, versionMinor: 1,
                                       headers: [HTTPHeader(name: "X-AUTH-TOKEN", value: Self.key),
                                                 HTTPHeader(name: "Content-Type", value: "application/x-www-form-urlencoded")] + headers,
                                       keepAlive: true, framing: .contentLength(body.utf8.count), expectsContinue: false)
            let client = HeldClient()
            harness.driver.handle(ServerRequest(head: head, body: Array(body.utf8), remoteAddress: "127.0.0.1", receivedAtNanos: 0),
                                  screened: nil, client: client)
            harness.upstream.waiting.removeFirst()(.failure(.connectionLost("reset", cause: .connectionReset)), 1)
            let answer = try #require(client.answers.first)
            #expect(answer.status == 502)
            return String(decoding: answer.body, as: UTF8.self)
        }
        let create = "/api/user/v1/subscription/create/profile"
        let withKey = try detail("POST", create, [HTTPHeader(name: "Idempotency-Key", value: UUID().uuidString)], body: "name=Ann")
        #expect(withKey.contains("retry with the same Idempotency-Key"))
        let withoutKey = try detail("POST", create, [], body: "name=Ann")
        #expect(withoutKey.contains("send an Idempotency-Key next time"))
        let read = try detail("GET", Self.segments, [], body: "")
        #expect(read.contains("check before retrying") && !read.contains("Idempotency-Key"))
    }
}
