import Foundation
import JustGateCore
import Testing

/// `justgate sites` and `justgate keygen --expires`, run as the binary operators use.
@Suite(.serialized)
struct SitesCommandTests {
    let cli = CommandLineTests()

    func fingerprint(_ key: String) -> String { String(SiteKeys.sha256Hex(key).prefix(12)) }

    @Test func sitesListsKeysTokenSourcesAndLimitsWithoutSecrets() throws {
        let token = "sites-command-token-S3CRET"
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex("current-key"))"
                keys:
                  - { sha256: "\(SiteKeys.sha256Hex("old-key"))", expires: 2020-01-31 }
                  - { sha256: "\(SiteKeys.sha256Hex("next-key"))", expires: 2099-12-31 }
                upstream_token: { env: JUSTGATE_SITES_TEST_TOKEN }
                limits:
                  - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 3/h, burst: 3 }
              - id: news-portal
                keys: [{ sha256: "\(SiteKeys.sha256Hex("news-old"))", expires: "2021-06-01T12:00:00Z" }]
                upstream_token: { file: /nonexistent/justgate-sites-test/news }
            """)
        let outcome = try cli.run(["sites", "--config", path], environment: ["JUSTGATE_SITES_TEST_TOKEN": token])
        #expect(outcome.status == 1, "a site without a current key and an unreadable token must fail the check")
        let lines = outcome.stdout.components(separatedBy: "\n")
        #expect(lines == [
            "site horoscope-daily",
            "  keys:   \(fingerprint("current-key"))  current, no expiry (key_sha256)",
            "          \(fingerprint("old-key"))  EXPIRED since 2020-01-31 00:00:00 UTC; refused, remove it from the config",
            lines.count > 3 ? lines[3] : "(missing)",
            "  token:  env JUSTGATE_SITES_TEST_TOKEN, resolves, fingerprint \(fingerprint(token))",
            "  limits: sms-per-number: at most 3 subscribe.sms per phone number per hour, bursts of 3",
            "",
            "site news-portal",
            "  keys:   \(fingerprint("news-old"))  EXPIRED since 2021-06-01 12:00:00 UTC; refused, remove it from the config",
            "          no current key: every request of this site is refused; add one with `justgate keygen`",
            lines.count > 10 ? lines[10] : "(missing)",
            "  limits: none",
            "",
        ], "\(outcome.stdout)")
        #expect(lines.count > 3 && lines[3].hasPrefix("          \(fingerprint("next-key"))  current, expires 2099-12-31 00:00:00 UTC ("))
        #expect(lines.count > 3 && lines[3].hasSuffix(" days left)"))
        #expect(lines.count > 10 && lines[10].hasPrefix(
            "  token:  file /nonexistent/justgate-sites-test/news, DOES NOT RESOLVE: site 'news-portal': cannot read token file"))
        #expect(!outcome.stdout.contains(token))
        #expect(!outcome.stdout.contains(SiteKeys.sha256Hex("current-key")))
    }

    @Test func sitesExitsZeroWhenEverySiteHasACurrentKeyAndAToken() throws {
        let outcome = try cli.run(["sites", "--config", "config/justgate.yaml"])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("site horoscope-daily\n  keys:   "))
        let demoToken = try String(contentsOf: CommandLineTests.repositoryRoot.appendingPathComponent(
            "config/demo-tokens/horoscope-daily.token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The config writes demo-tokens/…, relative to its own directory; sites shows the path it read.
        let root = CommandLineTests.repositoryRoot.standardizedFileURL.path
        #expect(outcome.stdout.contains(
            "  token:  file \(root)/config/demo-tokens/horoscope-daily.token, resolves, fingerprint \(fingerprint(demoToken))\n"),
            "\(outcome.stdout)")
    }

    @Test func keygenWithExpiresPrintsAKeysEntryThatTheConfigAccepts() throws {
        let outcome = try cli.run(["keygen", "--site", "news-portal", "--expires", "2099-12-31"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let key = try #require(lines.first { $0.count == 43 && !$0.contains(" ") })
        let entry = "{ sha256: \"\(SiteKeys.sha256Hex(key))\", expires: 2099-12-31 }"
        #expect(lines.contains("keys: [\(entry)]"))
        #expect(lines.contains("- \(entry)"))

        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: news-portal
                key_sha256: "\(SiteKeys.sha256Hex("the-old-key"))"
                keys:
                  - \(entry)
                upstream_token: { env: JUSTGATE_KEYGEN_TEST_TOKEN }
            """)
        let sites = try cli.run(["sites", "--config", path], environment: ["JUSTGATE_KEYGEN_TEST_TOKEN": "t"])
        #expect(sites.status == 0, "\(sites.stdout)\(sites.stderr)")
        #expect(sites.stdout.contains("\(fingerprint(key))  current, expires 2099-12-31 00:00:00 UTC"))
    }

    @Test(arguments: [("2027-02-30", "is not a date"), ("2020-01-01", "is already past")])
    func keygenRefusesAnExpiryThatCannotWork(date: String, complaint: String) throws {
        let outcome = try cli.run(["keygen", "--expires", date])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains(complaint), "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
    }
}

/// `justgate sites` next to a running gateway: each key's last use, asked from the admin listener's `GET /keys`.
@Suite(.serialized)
struct SitesLastUseTests {
    let cli = CommandLineTests()

    @Test func sitesShowsEachKeysLastUseFromTheRunningGateway() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let admin = try #require(gateway.runtime.adminAddress?.port)
        let keys = try RawHTTPClient(port: admin).exchange("GET /keys HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(keys.status == 200 && keys.header("Content-Type") == "application/json")
        #expect(keys.text.contains(#""last_used":null"#), "\(keys.text)")
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8&name=Bob")
        #expect(response.status == 200, "\(response.text)")

        // The same sites as the fixture, with the running gateway's admin address.
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            admin_listen: 127.0.0.1:\(admin)
            upstream: { url: sandbox }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                upstream_token: { env: T1 }
              - id: news-portal
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.newsKey))"
                upstream_token: { env: T2 }
            """)
        let outcome = try cli.run(["sites", "--config", path], environment: ["T1": "t1", "T2": "t2"])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let horoscope = String(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey).prefix(12))
        let news = String(SiteKeys.sha256Hex(GatewayFixture.newsKey).prefix(12))
        #expect(outcome.stdout.contains("\(horoscope)  current, no expiry (key_sha256); last used "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains(" s ago)"))
        #expect(outcome.stdout.contains("\(news)  current, no expiry (key_sha256); not used since the gateway started"))

        // Once the gateway is gone, the command says why it shows no last use instead of failing.
        gateway.runtime.stop()
        let alone = try cli.run(["sites", "--config", path], environment: ["T1": "t1", "T2": "t2"])
        #expect(alone.status == 0)
        #expect(alone.stdout.contains("last use of keys: not shown: cannot connect to the admin listener at 127.0.0.1:\(admin)"),
                "\(alone.stdout)")
    }
}
