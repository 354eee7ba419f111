import Testing
@testable import JustGateCore

/// The `outbox:` section, `sites[].defer`, and the catalogue's deferral traits (issue 25).
@Suite struct OutboxConfigTests {
    private static func load(_ yaml: String, baseDirectory: String? = nil)
        -> Result<(config: GatewayConfig, warnings: [ConfigProblem]), ConfigErrors> {
        ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids, fileName: "config/justgate.yaml",
                          baseDirectory: baseDirectory)
    }

    private static func problems(_ yaml: String) -> [String] {
        guard case .failure(let errors) = load(yaml) else { return [] }
        return errors.problems.map(\.description)
    }

    private static func siteWithDefer(_ list: String) -> String {
        ConfigFixtures.minimal + "    defer: \(list)\n"
    }

    @Test func defaultsWhenTheSectionIsAbsent() throws {
        let config = try Self.load(ConfigFixtures.minimal).get().config
        #expect(config.outbox == OutboxConfig())
        #expect(config.outbox.retryMs == [5000, 30000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000])
        #expect(config.outbox.maxAgeSeconds == 259_200 && config.outbox.maxBytes == 1_073_741_824)
        #expect(config.sites[0].deferredOperations.isEmpty)
    }

    @Test func everyKeyIsRead() throws {
        let yaml = ConfigFixtures.minimal + """
            outbox:
              backend: redis
              path: /var/lib/justgate/outbox
              redis_url: redis://127.0.0.1:6379/0
              retry_ms: [100, 200]
              max_age_s: 60
              max_bytes: 1048576
              lease_ms: 15000
              min_delivery_rate: 50
            """
        let outbox = try Self.load(yaml).get().config.outbox
        #expect(outbox.backend == .redis && outbox.path == "/var/lib/justgate/outbox")
        #expect(outbox.redisURL == "redis://127.0.0.1:6379/0" && outbox.retryMs == [100, 200])
        #expect(outbox.maxAgeSeconds == 60 && outbox.maxBytes == 1_048_576 && outbox.leaseMs == 15000)
        #expect(outbox.minDeliveryRate == 50)
        #expect(OutboxConfig().minDeliveryRate == 200)
    }

    /// The drain's floor is at least one delivery per second: a floor of none would let a loop under steady
    /// live load never drain.
    @Test func aFloorBelowOneDeliveryPerSecondIsRefused() {
        let problems = Self.problems(ConfigFixtures.minimal + "outbox: { min_delivery_rate: 0 }\n")
        #expect(problems.contains { $0.contains("outbox.min_delivery_rate") }, "\(problems)")
    }

    /// With Redis a lease must outlast the longest attempt plus a margin, or a second gateway could send a
    /// juid's next call while the first is still under way: a check-config error that names the deadline.
    @Test func aRedisLeaseShorterThanAnUpstreamDeadlineIsRefused() {
        let redis = "outbox: { backend: redis, redis_url: \"redis://127.0.0.1:6379/0\", lease_ms: 5000 }\n"
        let short = Self.problems(ConfigFixtures.minimal + redis)
        #expect(short.contains { $0.contains("outbox.lease_ms") && $0.contains("upstream.timeout_ms: 10000 ms")
                    && $0.contains("at least 11001") }, "\(short)")
        let perOperation = ConfigFixtures.minimal + redis.replacingOccurrences(of: "5000", with: "12000")
            + "operations:\n  subscribe.email: { timeout_ms: 20000 }\n"
        #expect(Self.problems(perOperation).contains { $0.contains("operations.subscribe.email.timeout_ms: 20000 ms")
                    && $0.contains("at least 21001") }, "\(Self.problems(perOperation))")
        #expect((try? Self.load(ConfigFixtures.minimal + redis.replacingOccurrences(of: "5000", with: "11001")).get()) != nil)
        // The file backend has no leases.
        #expect((try? Self.load(ConfigFixtures.minimal + "outbox: { lease_ms: 5000 }\n").get()) != nil)
    }

    @Test func wrongValuesAreReportedWithTheirLines() {
        let yaml = ConfigFixtures.minimal + """
            outbox:
              backend: kafka
              retry_ms: []
              max_bytes: 10
              colour: blue
            """
        let problems = Self.problems(yaml)
        #expect(problems.contains { $0.contains(":9: outbox.backend") && $0.contains("file, redis") })
        #expect(problems.contains { $0.contains(":10: outbox.retry_ms") && $0.contains("the last one repeats") })
        #expect(problems.contains { $0.contains(":11: outbox.max_bytes") && $0.contains("at least 65536") })
        #expect(problems.contains { $0.contains(":12: outbox") && $0.contains("colour") })
    }

    /// Larger values overflowed the policy's Int64 millisecond arithmetic (a trap at the first retry).
    @Test func waitsAndAgesTooLargeForTheArithmeticAreRefused() {
        let yaml = ConfigFixtures.minimal + """
            outbox:
              retry_ms: [1000, 604800001]
              max_age_s: 9223372036854775
            """
        let problems = Self.problems(yaml)
        #expect(problems.contains { $0.contains("outbox.retry_ms[1]") && $0.contains("at most 604800000 (7 days)") })
        #expect(problems.contains { $0.contains(":10: outbox.max_age_s") && $0.contains("at most 31536000 (365 days)") })
        let limits = ConfigFixtures.minimal + "outbox:\n  retry_ms: [604800000]\n  max_age_s: 31536000\n"
        #expect(Self.problems(limits).isEmpty)
    }

    /// `backend: redis` is built: accepted without the old "not available yet" warning; its URL is checked.
    @Test func redisIsAcceptedAndItsURLChecked() throws {
        let loaded = try Self.load(ConfigFixtures.minimal + "outbox:\n  backend: redis\n  redis_url: redis://127.0.0.1:6379/1\n").get()
        #expect(loaded.config.outbox.backend == .redis && loaded.warnings.isEmpty, "\(loaded.warnings)")
        let problems = Self.problems(ConfigFixtures.minimal + "outbox:\n  backend: redis\n  redis_url: http://127.0.0.1:6379\n")
        #expect(problems.contains { $0.contains("outbox.redis_url") }, "\(problems)")
    }

    @Test func redisNeedsAURL() {
        let problems = Self.problems(ConfigFixtures.minimal + "outbox:\n  backend: redis\n")
        #expect(problems.contains { $0.contains("needs redis_url") })
    }

    @Test func aWrittenPathIsJoinedToTheConfigDirectory() throws {
        let written = try Self.load(ConfigFixtures.minimal + "outbox:\n  path: state/outbox\n", baseDirectory: "/etc/justgate")
            .get().config
        #expect(written.outbox.path == "/etc/justgate/state/outbox")
        #expect(written.relativePaths.contains { $0.key == "outbox.path" })
        let unwritten = try Self.load(ConfigFixtures.minimal, baseDirectory: "/etc/justgate").get().config
        #expect(unwritten.outbox.path == "var/outbox")
    }

    @Test func deferListsDeferrableOperations() throws {
        let yaml = Self.siteWithDefer("[subscribe.email, unsubscribe.sms, utm.update, action.save]")
        let site = try Self.load(yaml).get().config.sites[0]
        #expect(site.deferredOperations == ["subscribe.email", "unsubscribe.sms", "utm.update", "action.save"])
    }

    @Test(arguments: ["profile.create", "segments.get", "stat.by_refid", "stat.count_by_refid"])
    func operationsWhoseAnswerTheSiteNeedsCannotBeDeferred(_ id: String) {
        let problems = Self.problems(Self.siteWithDefer("[subscribe.sms, \(id)]"))
        #expect(problems.contains {
            $0.contains(":8: sites[0].defer[1]") && $0.contains("'\(id)' cannot be deferred")
                && $0.contains("remove it from defer")
        })
    }

    @Test func unknownAndRepeatedOperationsAreReported() {
        let problems = Self.problems(Self.siteWithDefer("[subscribe.emial, subscribe.sms, subscribe.sms]"))
        #expect(problems.contains { $0.contains("defer[0]") && $0.contains("did you mean 'subscribe.email'") })
        #expect(problems.contains { $0.contains("defer[2]") && $0.contains("listed twice") })
    }

    @Test func theCatalogueSaysWhichOperationsMayWaitAndWhichMayRepeat() {
        let catalogue = Catalogue()
        let deferrable = Set(catalogue.operations.filter { $0.deferral.mayDefer }.map(\.id))
        #expect(deferrable == ["subscribe.email", "subscribe.sms", "unsubscribe.email", "unsubscribe.sms", "utm.update",
                               "action.save"])
        let repeatable = Set(catalogue.operations.filter { $0.deferral.isSafeToDeliverTwice }.map(\.id))
        #expect(repeatable == deferrable.subtracting(["action.save"]))
    }
}
