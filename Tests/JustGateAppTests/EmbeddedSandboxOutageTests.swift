import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// The sandbox embedded in `serve` (`upstream.url: sandbox`, what `make run` serves) can be told to go down, as
/// `justgate sandbox --unavailable-for` can (issue 25 item 9): `serve --sandbox-unavailable-after/-for`, so the
/// README's demo of a deferral runs with `make run` alone. A real gateway and its embedded sandbox over loopback.
@Suite(.serialized)
struct EmbeddedSandboxOutageTests {
    @Test func aCallDuringTheEmbeddedSandboxsOutageIsDeferredAndDeliveredAfterIt() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-embedded-outage")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Up for 1.5 s (time to create a profile), then down for 2 s.
        let gateway = try GatewayFixture(extraYAML: "outbox:\n  path: \(directory.path)/outbox\n  retry_ms: [500]\n",
                                         upstreamYAML: "  circuit: { failures: 1000, open_ms: 100 }",
                                         horoscopeYAML: "defer: [subscribe.email]", timeoutMs: 2000,
                                         sandboxOutage: SandboxOutage(afterMs: 1500, forMs: 2000))
        let juid = try OutboxDeliveryTests.createProfile(gateway)
        Thread.sleep(forTimeInterval: 1.7)
        let body = "juid=\(juid)&email=a%40example.com"
        let deferred = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email",
                                        contentType: "application/x-www-form-urlencoded", body: body)
        #expect(deferred.status == 202, "the embedded sandbox answered 503, so the call is kept: \(deferred.status)")
        let store = try #require(gateway.runtime.outbox)
        let delivered = Polling.read(timeoutSeconds: 15, until: { $0 == 0 }) { store.depth.pending }
        #expect(delivered == 0, "delivered once the outage is over")
    }
}
