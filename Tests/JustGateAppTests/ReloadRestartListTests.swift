import JustGateCore
import Testing
@testable import JustGateApp

/// A reload must say which changed settings it did not apply, or an operator believes a new breaker
/// threshold or retry count is in force when the old one still is.
@Suite struct ReloadRestartListTests {
    static func config(upstream extra: String = "", site: String = "") throws -> GatewayConfig {
        let yaml = """
            listen: 127.0.0.1:8080
            upstream:
              url: sandbox
            \(extra)
            sites:
              - id: demo
                key_sha256: "\(SiteKeys.sha256Hex("reload-restart-list"))"
                upstream_token: { env: DEMO_TOKEN }
            \(site)
            """
        return try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get().config
    }

    @Test(arguments: [
        "  retries: { max_attempts: 1 }",
        "  retries: { budget_percent: 5 }",
        "  circuit: { failures: 2 }",
        "  circuit: { open_ms: 500 }",
        "  max_in_flight: 10",
    ])
    func upstreamProtectionChangesAreReportedAsNeedingARestart(change: String) throws {
        let changed = Reloading.needsRestart(try Self.config(), try Self.config(upstream: change))
        #expect(changed == ["upstream retries, circuit and max_in_flight"], "\(change)")
    }

    /// The idempotency store (memory, or one Redis connection per loop) is made at start.
    @Test(arguments: ["idempotency: { ttl_s: 60 }", "idempotency: { backend: redis, redis_url: \"redis://127.0.0.1:6379/0\" }"])
    func idempotencyChangesAreReportedAsNeedingARestart(change: String) throws {
        #expect(Reloading.needsRestart(try Self.config(), try Self.config(upstream: change)) == ["idempotency"])
    }

    /// Each loop's libcurl handles are set up with the version at start; a reload cannot change it.
    @Test(arguments: ["  http_version: auto", "  http_version: \"2\""])
    func anHTTPVersionChangeIsReportedAsNeedingARestart(change: String) throws {
        #expect(Reloading.needsRestart(try Self.config(), try Self.config(upstream: change)) == ["upstream.http_version"])
    }

    /// The outbox is opened at start (and only when some site defers): neither its settings nor a first
    /// defer list take effect on a reload.
    @Test func outboxChangesAndAFirstDeferListAreReportedAsNeedingARestart() throws {
        let deferring = "    defer: [subscribe.email]"
        #expect(Reloading.needsRestart(try Self.config(), try Self.config(site: deferring))
                == ["sites[].defer (no outbox is open until a restart)"])
        #expect(Reloading.needsRestart(try Self.config(site: deferring), try Self.config(site: deferring)).isEmpty)
        #expect(Reloading.needsRestart(try Self.config(site: deferring), try Self.config()).isEmpty)
        let outbox = "outbox:\n  max_age_s: 60"
        #expect(Reloading.needsRestart(try Self.config(site: deferring),
                                       try Self.config(upstream: outbox, site: deferring)) == ["outbox"])
    }

    @Test func anUnchangedConfigNeedsNoRestart() throws {
        #expect(Reloading.needsRestart(try Self.config(), try Self.config()).isEmpty)
    }
}
