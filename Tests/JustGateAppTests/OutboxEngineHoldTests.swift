import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateReactor
import JustGateServer
import JustGateUpstream
import Synchronization
import Testing

/// The delivery engine while the upstream refuses at once (every slot taken, or the circuit open): many due
/// entries must not make it recurse (each synchronous refusal used to re-enter `look` and claim again, one
/// stack frame per entry), and a hold must not write a record per try (an outage filled the disk).
@Suite(.serialized)
struct OutboxEngineHoldTests {
    /// Keeps `count` calls of distinct juids of `site` and waits until all are durable.
    static func fill(_ store: OutboxFileStore, count: Int, site: String) {
        let done = DispatchSemaphore(value: 0)
        for index in 0..<count {
            store.keep(OutboxFileStoreTests.call("u\(index)", site: site)) { _ in done.signal() }
        }
        for _ in 0..<count { _ = done.wait(timeout: .now() + 30) }
    }

    static func outboxBytes(_ path: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name)[.size] as? Int) ?? 0
            return total + (size ?? 0)
        }
    }

    /// Runs an engine for `seconds` on a one-loop server whose upstream guards are `guards`.
    static func runEngine(store: OutboxFileStore, contexts: GatewayContextStore, guards: UpstreamGuards,
                          seconds: Double) throws {
        let server = HTTPServer(configuration: ServerConfiguration(address: try #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                                                   workers: 1)) { loop in
            let client = try UpstreamClient(loop: loop, configuration: UpstreamClientConfiguration())
            let upstream = ResilientUpstream(client: client, loop: loop, guards: guards, retries: RetryConfig())
            let lane = try OutboxLane(store: store, loop: loop, upstream: upstream, contexts: contexts, floorPerSecond: 200)
            lane.engine.start()
            return OutboxLaneTests.DeferringHandler(lane: lane, siteID: "horoscope-daily")
        }
        _ = try server.start()
        Thread.sleep(forTimeInterval: seconds)
        server.stop()
    }

    @Test func manyDueEntriesRefusedAtOnceNeitherRecurseNorWriteEachHold() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:9")
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        Self.fill(store, count: 20_000, site: "horoscope-daily")
        #expect(store.depth.pending == 20_000)
        let before = Self.outboxBytes(config.path)
        // No slot is ever free: every delivery is refused synchronously, before any attempt.
        let guards = UpstreamGuards(circuit: CircuitConfig(), retries: RetryConfig(), maxInFlight: 0)
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards, seconds: 1.5)
        #expect(store.depth.pending == 20_000)
        #expect(store.list(state: .pending, limit: 20_000).allSatisfy { $0.attempts == 0 })
        // A hold changes nothing worth a record: the files did not grow.
        Thread.sleep(forTimeInterval: 1.2)   // the writer's next round
        #expect(Self.outboxBytes(config.path) == before)
    }

    @Test func entriesOfASiteNoLongerConfiguredAreHeldWithoutWriting() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:9")
        var config = OutboxFileStoreTests.config(directory)
        config.retryMs = [1]
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        Self.fill(store, count: 50, site: "gone")
        let before = Self.outboxBytes(config.path)
        let guards = UpstreamGuards(circuit: CircuitConfig(), retries: RetryConfig(), maxInFlight: 64)
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards, seconds: 1.0)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(store.depth.pending == 50)
        #expect(Self.outboxBytes(config.path) == before)
    }

    @Test func anOpenCircuitIsNotClaimedAgainstUntilItMayLetACallThrough() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:9")
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        Self.fill(store, count: 5_000, site: "horoscope-daily")
        let before = Self.outboxBytes(config.path)
        var circuit = CircuitConfig()
        circuit.failures = 1
        circuit.openMs = 60_000
        let guards = UpstreamGuards(circuit: circuit, retries: RetryConfig(), maxInFlight: 64)
        guards.record(failure: true, isProbe: false)
        #expect(guards.circuitState == .open)
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards, seconds: 1.0)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(store.depth.pending == 5_000)
        #expect(Self.outboxBytes(config.path) == before)
    }
}
