import Testing
@testable import JustGateCore

/// Paths written in a config file are relative to the file's directory; the built-in default audit.path and
/// YAML from no file keep the working directory.
@Suite struct ConfigRelativePathsTests {
    static let yaml = """
        listen: 127.0.0.1:8080
        upstream: { url: "https://api.justservices.cc", ca_file: ca/upstream.pem }
        sites:
          - id: a
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: { file: tokens/a.token }
          - id: b
            key_sha256: "\(ConfigFixtures.hashB)"
            upstream_token: { file: /etc/justgate/tokens/b }
        audit:
          path: ./logs//audit.jsonl
          hmac_key: { file: "${CREDENTIALS_DIRECTORY}/audit.key" }
        rate_limit:
          key_secret: { file: ../shared/ratelimit.key }
        """

    func load(_ yaml: String, baseDirectory: String?) throws -> GatewayConfig {
        try ConfigLoader.load(yaml: yaml, knownOperations: ConfigFixtures.operations, fileName: "justgate.yaml",
                              baseDirectory: baseDirectory).get().config
    }

    @Test func writtenRelativePathsAreJoinedToTheConfigFilesDirectory() throws {
        let config = try load(Self.yaml, baseDirectory: "/srv/gate")
        #expect(config.upstream.caFile == "/srv/gate/ca/upstream.pem")
        #expect(config.sites[0].upstreamToken == .file("/srv/gate/tokens/a.token"))
        #expect(config.audit.path == "/srv/gate/logs/audit.jsonl")
        #expect(config.rateLimit.keySecret == .file("/srv/gate/../shared/ratelimit.key"))
        // Absolute and ${CREDENTIALS_DIRECTORY} paths are used as written.
        #expect(config.sites[1].upstreamToken == .file("/etc/justgate/tokens/b"))
        #expect(config.audit.hmacKey == .file("${CREDENTIALS_DIRECTORY}/audit.key"))
        #expect(config.relativePaths.map(\.key) == [
            "sites[0].upstream_token.file", "upstream.ca_file", "audit.path", "rate_limit.key_secret.file",
        ])
        #expect(config.relativePaths.first == ResolvedConfigPath(
            key: "sites[0].upstream_token.file", written: "tokens/a.token", resolved: "/srv/gate/tokens/a.token"))
    }

    @Test func theBuiltInDefaultAuditPathStaysRelativeToTheWorkingDirectory() throws {
        let config = try load(ConfigFixtures.minimal, baseDirectory: "/srv/gate")
        #expect(config.audit.path == "var/audit/audit.jsonl")
        #expect(config.relativePaths.isEmpty)
        // Written, even as the default's text, it is the config's.
        let written = try load(ConfigFixtures.minimal + "audit: { path: var/audit/audit.jsonl }\n", baseDirectory: "/srv/gate")
        #expect(written.audit.path == "/srv/gate/var/audit/audit.jsonl")
    }

    @Test func yamlFromNoFileKeepsItsPathsAsWritten() throws {
        let config = try load(Self.yaml, baseDirectory: nil)
        #expect(config.upstream.caFile == "ca/upstream.pem")
        #expect(config.sites[0].upstreamToken == .file("tokens/a.token"))
        #expect(config.audit.path == "./logs//audit.jsonl")
        #expect(config.relativePaths.isEmpty)
    }

    @Test(arguments: [
        ("a.token", "/etc/gate", "/etc/gate/a.token"),
        ("./a/./b", "/etc/gate/", "/etc/gate/a/b"),
        ("../x", "/etc/gate", "/etc/gate/../x"),
        ("a", "/", "/a"),
        ("/abs//x", "/etc", "/abs/x"),
        ("config/justgate.yaml", "", "config/justgate.yaml"),
        ("./", "rel", "rel"),
    ])
    func joiningIsPlainStringWork(path: String, directory: String, expected: String) {
        #expect(ConfigRelativePaths.join(path, to: directory) == expected)
    }
}
