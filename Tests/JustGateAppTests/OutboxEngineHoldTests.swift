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

    /// Bytes of whole records in the outbox's segments: not their file sizes, since the live segment is
    /// zero-filled ahead of its records (a record written into that room would not grow the file).
    static func outboxBytes(_ path: String) -> Int {
        let files = OutboxSegmentFiles(directory: path)
        return files.numbers().reduce(0) { total, number in
            total + ((try? files.read(number)).map { OutboxRecordCodec.decode($0).validBytes } ?? 0)
        }
    }

    /// Deliveries the engine held back (not sent: no slot, circuit open, site gone), counted by the store.
    static func held(_ store: OutboxFileStore) -> Int {
        store.readings(nowMs: OutboxFileStore.wallClockMs()).counts.attempts["held", default: 0]
    }

    /// Keeps one more call and waits until it is durable: the writer's batch that holds it also holds every
    /// record queued before it (a hold that wrongly wrote one included), so afterwards the files have grown by
    /// this one record and nothing else, with no fixed wait for "the writer's next round".
    static func writtenMarker(_ store: OutboxFileStore, site: String) throws -> Int {
        let entry = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("marker", site: site)).get()
        var record: [UInt8] = []
        OutboxRecordCodec.append(.entry(entry), to: &record)
        return record.count
    }

    /// Runs an engine on a one-loop server whose upstream guards are `guards` until `isDone` (polled, for up
    /// to 30 s) or, with no condition, for `seconds`.
    static func runEngine(store: OutboxFileStore, contexts: GatewayContextStore, guards: UpstreamGuards,
                          seconds: Double = 0, until isDone: (() -> Bool)? = nil) throws {
        let server = HTTPServer(configuration: ServerConfiguration(address: try #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                                                   workers: 1)) { loop in
            let client = try UpstreamClient(loop: loop, configuration: UpstreamClientConfiguration())
            let upstream = ResilientUpstream(client: client, loop: loop, guards: guards, retries: RetryConfig())
            let lane = try OutboxLane(store: store, loop: loop, upstream: upstream, contexts: contexts, floorPerSecond: 200)
            lane.engine.start()
            return OutboxLaneTests.DeferringHandler(lane: lane, siteID: "horoscope-daily")
        }
        _ = try server.start()
        if let isDone {
            #expect(Polling.read(timeoutSeconds: 30, until: { $0 }, isDone), "the engine never got there")
        } else {
            Thread.sleep(forTimeInterval: seconds)
        }
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
        // A fixed run on purpose: no slot is ever free, so the pacer lets no claim start and nothing observable
        // happens (no claim, no hold, no write) for the rounds of 1.5 s; that is what it proves, with no event to
        // wait for. (Had a refusal re-entered the claim, the first round would have gone 20,000 frames deep.)
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards, seconds: 1.5)
        #expect(store.depth.pending == 20_000)
        #expect(store.list(state: .pending, limit: 20_000).allSatisfy { $0.attempts == 0 })
        // A hold changes nothing worth a record: the files grew by the marker's record alone.
        let marker = try Self.writtenMarker(store, site: "horoscope-daily")
        #expect(Self.outboxBytes(config.path) == before + marker)
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
        // Every entry held at least once (most many times: retry_ms is 1 ms).
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards) { Self.held(store) >= 100 }
        #expect(store.depth.pending == 50)
        let marker = try Self.writtenMarker(store, site: "gone")
        #expect(Self.outboxBytes(config.path) == before + marker, "more than the marker's record was written")
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
        // A fixed run on purpose: what it proves is that nothing happens (no claim, no hold, no write) for a
        // second of rounds (one every 250 ms) while the circuit is open; there is no event to wait for.
        try Self.runEngine(store: store, contexts: gateway.runtime.contextStore, guards: guards, seconds: 1.0)
        #expect(store.depth.pending == 5_000)
        #expect(Self.held(store) == 0, "entries were claimed against the open circuit")
        let marker = try Self.writtenMarker(store, site: "horoscope-daily")
        #expect(Self.outboxBytes(config.path) == before + marker)
    }
}
