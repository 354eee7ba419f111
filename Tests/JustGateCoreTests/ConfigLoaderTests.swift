import Testing

@testable import JustGateCore

/// Valid configs: every field lands in the model, omitted fields take their documented defaults.
@Suite struct ConfigLoaderTests {
    static let full = """
        listen: 127.0.0.1:8080
        admin_listen: "[::1]:9090"
        upstream:
          url: https://api.justservices.cc/
          connect_timeout_ms: 1500
          timeout_ms: 12_000
          max_response_bytes: 2097152
          ca_file: /etc/ssl/private-ca.pem
        server:
          workers: 2
          max_connections: 1000
          header_timeout_ms: 5000
          body_timeout_ms: 6000
          idle_timeout_ms: 30000
          max_request_line_bytes: 4096
          max_header_line_bytes: 4000
          max_header_bytes: 16384
          max_header_count: 50
          max_body_bytes: 65536
          max_multipart_parts: 8
          max_multipart_part_bytes: 4096
        validation:
          unknown_fields: drop
          max_fields: 40
        sites:
          - id: horoscope-daily
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: { env: JUST_TOKEN_HOROSCOPE }
            phone: { default_country_code: "7", trunk_prefix: 8 }
            email: { lowercase_local_part: true }
            ip: { reject_non_public: true }
            gender: { allowed: [male, female] }
          - id: news.weekly_2
            key_sha256: \(ConfigFixtures.hashB.uppercased())
            upstream_token:
              file: /run/secrets/news-token
        operations:
          unsubscribe.email: { method: POST }
          profile.create: { path: /api/user/v2/profile }
        audit:
          path: /var/log/justgate/audit.jsonl
        log:
          level: debug
        """

    @Test func fullConfigRoundTripsIntoTheModel() throws {
        let loaded = try #require(ConfigFixtures.config(Self.full))
        let config = loaded.config
        #expect(loaded.warnings.isEmpty)
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.adminListen == ListenAddress(host: "::1", port: 9090))
        #expect(config.upstream.target == .url("https://api.justservices.cc"))
        #expect(config.upstream.connectTimeoutMs == 1500)
        #expect(config.upstream.timeoutMs == 12_000)
        #expect(config.upstream.maxResponseBytes == 2_097_152)
        #expect(config.upstream.caFile == "/etc/ssl/private-ca.pem")

        var server = ServerConfig()
        server.workers = 2
        server.maxConnections = 1000
        server.headerTimeoutMs = 5000
        server.bodyTimeoutMs = 6000
        server.idleTimeoutMs = 30000
        server.maxRequestLineBytes = 4096
        server.maxHeaderLineBytes = 4000
        server.maxHeaderBytes = 16384
        server.maxHeaderCount = 50
        server.maxBodyBytes = 65536
        server.maxMultipartParts = 8
        server.maxMultipartPartBytes = 4096
        #expect(config.server == server)
        #expect(config.validation.unknownFields == .drop)
        #expect(config.validation.maxFields == 40)

        #expect(config.sites.count == 2)
        let first = config.sites[0]
        #expect(first.id == "horoscope-daily")
        #expect(first.keySHA256 == SiteKeys.sha256(ConfigFixtures.keyA))
        #expect(first.upstreamToken == .env("JUST_TOKEN_HOROSCOPE"))
        #expect(first.phoneDefaultCountryCode == "7")
        #expect(first.phoneTrunkPrefix == "8")
        #expect(first.lowercaseEmailLocalPart)
        #expect(first.rejectNonPublicIP)
        #expect(first.allowedGenders == ["male", "female"])
        let second = config.sites[1]
        #expect(second.id == "news.weekly_2")
        #expect(second.keySHA256 == SiteKeys.sha256(ConfigFixtures.keyB))
        #expect(second.upstreamToken == .file("/run/secrets/news-token"))
        #expect(second.phoneDefaultCountryCode == nil)
        #expect(second.phoneTrunkPrefix == nil)
        #expect(second.lowercaseEmailLocalPart)  // lowercasing the local part is the default; sites opt out
        #expect(!second.rejectNonPublicIP)
        #expect(second.allowedGenders == nil)

        #expect(config.operations == [
            "unsubscribe.email": OperationOverride(method: "POST", path: nil),
            "profile.create": OperationOverride(method: nil, path: "/api/user/v2/profile"),
        ])
        #expect(config.audit.path == "/var/log/justgate/audit.jsonl")
        #expect(config.log.level == .debug)
    }

    @Test func omittedSectionsTakeTheDocumentedDefaults() throws {
        let config = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config
        #expect(config.adminListen == nil)
        #expect(config.upstream.connectTimeoutMs == 2000)
        #expect(config.upstream.timeoutMs == 10_000)
        #expect(config.upstream.maxResponseBytes == 1_048_576)
        #expect(config.upstream.caFile == nil)
        #expect(config.server.workers == 0)
        #expect(config.server.maxConnections == 16_384)
        #expect(config.server.headerTimeoutMs == 10_000)
        #expect(config.server.bodyTimeoutMs == 10_000)
        #expect(config.server.idleTimeoutMs == 60_000)
        #expect(config.server.maxRequestLineBytes == 8192)
        #expect(config.server.maxHeaderLineBytes == 8192)
        #expect(config.server.maxHeaderBytes == 32_768)
        #expect(config.server.maxHeaderCount == 100)
        #expect(config.server.maxBodyBytes == 1_048_576)
        #expect(config.server.maxMultipartParts == 64)
        #expect(config.server.maxMultipartPartBytes == 65_536)
        #expect(config.validation.unknownFields == .reject)
        #expect(config.validation.maxFields == 256)
        #expect(config.operations.isEmpty)
        #expect(config.audit.path == "var/audit/audit.jsonl")
        #expect(config.log.level == .info)
        #expect(config.sites[0].allowedGenders == nil)
    }

    @Test func sandboxIsAnUpstreamTarget() throws {
        let yaml = ConfigFixtures.minimal.replacing("https://api.justservices.cc", with: "sandbox")
        let config = try #require(ConfigFixtures.config(yaml)).config
        #expect(config.upstream.target == .sandbox)
    }

    @Test(arguments: [
        ("default_country_code: 7", "7"), ("default_country_code: \"7\"", "7"),
        ("default_country_code: 375", "375"), ("default_country_code: '07'", "07"),
        ("default_country_code: 07", "07"),
    ])
    func phoneCodesAcceptNumbersAndTextKeepingTheirSpelling(line: String, expected: String) throws {
        let yaml = ConfigFixtures.minimal + "    phone: { \(line) }\n"
        let config = try #require(ConfigFixtures.config(yaml)).config
        #expect(config.sites[0].phoneDefaultCountryCode == expected)
    }

    @Test func inlineTokenValueLoadsWithAWarningThatDoesNotRepeatIt() throws {
        let yaml = ConfigFixtures.minimal.replacing(
            "{ env: JUST_TOKEN_HOROSCOPE }", with: "{ value: cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS }")
        let loaded = try #require(ConfigFixtures.config(yaml))
        #expect(loaded.config.sites[0].upstreamToken == .value(Secret("cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS")))
        #expect(loaded.warnings.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.isWarning)
        #expect(warning.path == "sites[0].upstream_token.value")
        #expect(warning.line == 7)
        #expect(warning.message.contains("put tokens in env or a file"))
        #expect(!warning.description.contains("cLH6gah9"))
        #expect(warning.description.hasPrefix("config/justgate.yaml:7: warning: sites[0].upstream_token.value: "))
    }

    @Test func adminListenOnTheNetworkNeedsAnAdminToken() throws {
        let yaml = "admin_listen: 0.0.0.0:9090\n" + ConfigFixtures.minimal
        let problems = ConfigFixtures.problems(yaml)
        #expect(problems.map(\.path) == ["admin_listen"])
        #expect(problems.first?.line == 1)
        #expect(problems.first?.message.contains("admin_token_sha256") == true)
        let withToken = "admin_token_sha256: \"\(ConfigFixtures.hashB)\"\n" + yaml
        let loaded = try #require(ConfigFixtures.config(withToken))
        #expect(loaded.config.adminTokenSHA256 == SiteKeys.sha256(ConfigFixtures.keyB))
        #expect(loaded.warnings.isEmpty)
    }

    @Test func plainHTTPToARemoteUpstreamIsAWarningButLocalIsNot() throws {
        let remote = ConfigFixtures.minimal.replacing("https://api", with: "http://api")
        let remoteWarnings = try #require(ConfigFixtures.config(remote)).warnings
        #expect(remoteWarnings.map(\.path) == ["upstream.url"])
        let local = ConfigFixtures.minimal.replacing("https://api.justservices.cc", with: "http://127.0.0.1:8081/")
        let loaded = try #require(ConfigFixtures.config(local))
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.config.upstream.target == .url("http://127.0.0.1:8081"))
    }

    @Test func nullOptionalSectionsMeanDefaults() throws {
        let yaml = ConfigFixtures.minimal + "server:\noperations: ~\nlog:\n"
        let config = try #require(ConfigFixtures.config(yaml)).config
        #expect(config.server == ServerConfig())
        #expect(config.operations.isEmpty)
        #expect(config.log.level == .info)
    }
}
