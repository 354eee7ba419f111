@testable import JustGateCore

/// Shared fixtures for the config tests: key hashes, the operation ids the loader is told about, and helpers
/// that unwrap a load result into either the config or the problems.
enum ConfigFixtures {
    static let keyA = "site-key-a-0123456789abcdefghijklmnopqrstuv"
    static let keyB = "site-key-b-0123456789abcdefghijklmnopqrstuv"
    static let hashA = SiteKeys.sha256Hex(keyA)
    static let hashB = SiteKeys.sha256Hex(keyB)
    static let operations: Set<String> = ["unsubscribe.email", "profile.create", "subscription.create"]

    /// Seven lines, each with a known number:
    /// 1 listen, 2 upstream, 3 url, 4 sites, 5 id, 6 key_sha256, 7 upstream_token.
    static let minimal = """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        sites:
          - id: horoscope-daily
            key_sha256: "\(hashA)"
            upstream_token: { env: JUST_TOKEN_HOROSCOPE }

        """

    static func load(_ yaml: String) -> Result<(config: GatewayConfig, warnings: [ConfigProblem]), ConfigErrors> {
        ConfigLoader.load(yaml: yaml, knownOperations: operations, fileName: "config/justgate.yaml")
    }

    /// The problems of a load that must fail; empty (so the test fails on its expectations) if it succeeded.
    static func problems(_ yaml: String) -> [ConfigProblem] {
        switch load(yaml) {
        case .success: return []
        case .failure(let errors): return errors.problems
        }
    }

    /// The config of a load that must succeed, or `nil`.
    static func config(_ yaml: String) -> (config: GatewayConfig, warnings: [ConfigProblem])? {
        switch load(yaml) {
        case .success(let loaded): return loaded
        case .failure: return nil
        }
    }
}

/// A `SecretEnvironment` made of dictionaries, so resolver tests touch no real variables or files.
struct FakeSecretEnvironment: SecretEnvironment {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String { "permission denied" }
    }

    var variables: [String: String] = [:]
    var files: [String: String] = [:]

    func environmentValue(_ name: String) -> String? {
        variables[name]
    }

    func fileContents(_ path: String) throws -> String {
        guard let contents = files[path] else { throw Unreadable() }
        return contents
    }
}
