#if canImport(Glibc)
import Glibc
#endif
@testable import JustGateApp
import JustGateCore
import JustGateReactor
import JustGateUpstream
import Testing

/// `ResilientUpstream.liveUnderWay`, the outbox delivery pacer's signal that live calls are on the loop
/// (`DeliveryPacer`, rule 1), on a real event loop and libcurl against a scripted upstream: every live exchange
/// is counted until it ends, however it ends (a count left behind would hold the drain at its floor until a
/// restart), deliveries are not counted, and `onLiveQuiet` runs once the last live call's completion has run.
@Suite(.serialized)
struct UpstreamLiveCountTests {
    /// One loop on the test's thread, its upstream, and what `onLiveQuiet` saw.
    final class Bench {
        let harness: RedisConnectionTests.Harness
        let upstream: ResilientUpstream
        /// `liveUnderWay` at each `onLiveQuiet`, and whether the last completion had already run by then.
        var quiet: [(count: Int, afterCompletion: Bool)] = []
        var completed = 0

        init(maxInFlight: Int) throws {
            harness = try RedisConnectionTests.Harness()
            let client = try UpstreamClient(loop: harness.loop, configuration: UpstreamClientConfiguration())
            let guards = UpstreamGuards(circuit: CircuitConfig(), retries: RetryConfig(), maxInFlight: maxInFlight)
            upstream = ResilientUpstream(client: client, loop: harness.loop, guards: guards, retries: RetryConfig())
            upstream.onLiveQuiet = { [unowned self] in
                quiet.append((upstream.liveUnderWay, completed > 0))
            }
        }

        func request(_ url: String) -> UpstreamRequest {
            UpstreamRequest(method: "GET", baseURL: url, target: "/api/user/v1/segments/get?juid=x", headers: [],
                            body: [])
        }

        /// A live call, as the request phases start one.
        @discardableResult
        func live(_ url: String) -> any CancellableCall {
            upstream.start(request(url), deadlineMs: 2000, idempotent: true) { [unowned self] _, _ in completed += 1 }
        }
    }

    @Test func aLiveCallCountsUntilItsAnswerAndThenTheLoopIsQuiet() throws {
        let scripted = try ScriptedUpstream(.answer(200, "{}"))
        let bench = try Bench(maxInFlight: 16)
        bench.live(scripted.url)
        bench.live(scripted.url)
        #expect(bench.upstream.liveUnderWay == 2 && bench.upstream.guards.liveCallsUnderWay == 2)
        #expect(bench.harness.run(atMostMs: 5000) { bench.completed == 2 })
        #expect(bench.upstream.liveUnderWay == 0 && bench.upstream.guards.liveCallsUnderWay == 0)
        // Quiet once, when the second ended, after its completion (its answer went out first).
        #expect(bench.quiet.count == 1)
        #expect(bench.quiet.first?.count == 0 && bench.quiet.first?.afterCompletion == true)
    }

    @Test func aLiveCallRefusedOrCancelledStopsCounting() throws {
        let refusing = try Bench(maxInFlight: 0)
        refusing.live("http://127.0.0.1:9")
        // Refused before any attempt (no slot): ended at once.
        #expect(refusing.completed == 1 && refusing.upstream.liveUnderWay == 0 && refusing.quiet.count == 1)
        #expect(refusing.upstream.guards.liveCallsUnderWay == 0)

        let silent = try ScriptedUpstream(.silent)
        let bench = try Bench(maxInFlight: 16)
        let call = bench.live(silent.url)
        #expect(bench.harness.run(atMostMs: 3000) { silent.requestCount == 1 })
        #expect(bench.upstream.liveUnderWay == 1)
        call.cancel()
        #expect(bench.upstream.liveUnderWay == 0 && bench.quiet.count == 1 && bench.upstream.guards.liveCallsUnderWay == 0)
    }

    @Test func deliveriesAreNotLiveCalls() throws {
        let scripted = try ScriptedUpstream(.answer(200, "{}"))
        let bench = try Bench(maxInFlight: 16)
        var delivered = false
        _ = bench.upstream.send(bench.request(scripted.url), deadlineMs: 2000, idempotent: false) { _, _ in
            delivered = true
        }
        #expect(bench.upstream.liveUnderWay == 0 && bench.upstream.guards.liveCallsUnderWay == 0)
        #expect(bench.harness.run(atMostMs: 5000) { delivered })
        #expect(bench.quiet.isEmpty)
    }
}
