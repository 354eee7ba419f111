import Foundation
import JustGateCore
import Testing

/// `check-config` says when per-user keys in a shared Redis are plain SHA-256 prefixes, and is quiet once
/// `rate_limit.key_secret` is set (and readable).
@Suite struct RateLimitKeySecretCommandTests {
    func config(secret: String) throws -> String {
        try CommandLineTests().writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: shop
                key_sha256: "\(SiteKeys.sha256Hex("some-key"))"
                upstream_token: { env: RL_TEST_TOKEN }
                limits:
                  - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 3/h }
            rate_limit:
              backend: redis
              redis_url: redis://127.0.0.1:6379/0
            \(secret)
            audit: { enabled: false }
            """)
    }

    @Test func checkConfigWarnsAboutUnkeyedPerUserRedisKeys() throws {
        let path = try config(secret: "")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try CommandLineTests().run(["check-config", "--config", path], environment: ["RL_TEST_TOKEN": "token"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("shop/sms-per-number"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("rate_limit.key_secret"))
    }

    @Test func checkConfigIsQuietWithASecretAndRefusesAnUnreadableOne() throws {
        let path = try config(secret: "  key_secret: { env: RL_TEST_SECRET }")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = try CommandLineTests().run(["check-config", "--config", path],
                                              environment: ["RL_TEST_TOKEN": "token", "RL_TEST_SECRET": "a-secret-of-enough-length"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(!good.stdout.contains("SHA-256 prefixes"), "\(good.stdout)")
        let missing = try CommandLineTests().run(["check-config", "--config", path], environment: ["RL_TEST_TOKEN": "token"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("rate_limit.key_secret"), "\(missing.stderr)")
        #expect(missing.stderr.contains("RL_TEST_SECRET"))
    }
}
