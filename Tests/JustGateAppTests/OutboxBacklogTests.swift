import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// A large backlog meeting an open circuit: every attempt is refused at once (inside the engine's own look), and
/// the engine must not answer each refusal by looking again on the same stack. It did, and 100,000 pending
/// entries overflowed the event loop's stack (a crash of the gateway after an outage, found by
/// bench/outbox/drain.sh).
@Suite(.serialized)
struct OutboxBacklogTests {
    @Test func aBacklogRefusedAtOnceByTheOpenCircuitDoesNotOverflowTheLoop() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-backlog")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("outbox").path
        var config = OutboxConfig()
        config.path = path
        let filler = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let count = 40_000
        var index = 0
        while index < count {
            let round = DispatchGroup()
            for _ in 0..<1000 {
                index += 1
                round.enter()
                filler.keep(OutboxDeliveryTests.call("subscribe.email", juid: String(format: "%032x", index))) { _ in round.leave() }
            }
            round.wait()
        }
        filler.stop()

        // Nothing listens on port 9: the first attempts fail, the circuit opens, and every later one is refused
        // before it is sent (held until the circuit lets a probe through, a minute later).
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:9",
                                         extraYAML: "outbox:\n  path: \(path)\n  retry_ms: [60000]\n",
                                         upstreamYAML: "  circuit: { failures: 1, open_ms: 60000 }",
                                         horoscopeYAML: "defer: [subscribe.email]", timeoutMs: 2000)
        let store = try #require(gateway.runtime.outbox)
        // The first attempts open the circuit; from then on the engine's rounds meet refusals (or pause for the
        // circuit) while 40,000 entries are due. Give it a few seconds of rounds: the loop must survive them.
        let opened = Polling.read(timeoutSeconds: 60, until: { $0 }) { gateway.runtime.upstreamGuards.circuitState == .open }
        #expect(opened, "the circuit never opened")
        // A fixed wait on purpose: what it proves is that nothing happens (no crash) during some 12 rounds (one
        // every 250 ms while the circuit is open) with 40,000 entries due; there is no event to wait for, and
        // nothing below depends on how many rounds ran, so a slow CI cannot make it fail.
        Thread.sleep(forTimeInterval: 3)
        #expect(store.depth.pending == count)
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=0123456789abcdef0123456789abcdef").status == 503,
                "the gateway still answers (the circuit is open)")
    }
}
