import Testing

@testable import JustGateCore

/// One broken config and the problem it must produce.
struct ConfigErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var path: String
    var line: Int
    var message: String

    var testDescription: String { name }

    /// `minimal` with `old` replaced by `new`.
    static func replacing(
        _ name: String, _ old: String, _ new: String, path: String, line: Int, message: String
    ) -> ConfigErrorCase {
        let yaml = ConfigFixtures.minimal.replacing(old, with: new)
        precondition(yaml != ConfigFixtures.minimal, "fixture text '\(old)' not found")
        return ConfigErrorCase(name: name, yaml: yaml, path: path, line: line, message: message)
    }

    /// `minimal` followed by `extra` (which starts on line 8).
    static func appending(_ name: String, _ extra: String, path: String, line: Int, message: String) -> ConfigErrorCase {
        ConfigErrorCase(name: name, yaml: ConfigFixtures.minimal + extra, path: path, line: line, message: message)
    }
}

/// Every kind of error, each reported with its key path and line.
@Suite struct ConfigLoaderErrorTests {
    static let site = ConfigFixtures.minimal.split(separator: "\n").dropFirst(4).joined(separator: "\n")

    static let cases: [ConfigErrorCase] = [
        .appending("unknown top-level key", "listne: 1\n", path: "", line: 8,
                   message: "unknown key 'listne' at the top level; did you mean 'listen'?"),
        .replacing("unknown key in upstream", "  url: https://api.justservices.cc",
                   "  url: https://api.justservices.cc\n  timeout: 5", path: "upstream", line: 4,
                   message: "unknown key 'timeout'"),
        .appending("unknown key in a site", "    colour: red\n", path: "sites[0]", line: 8,
                   message: "unknown key 'colour'"),
        .appending("unknown key in server", "server: { max_conections: 5 }\n", path: "server", line: 8,
                   message: "did you mean 'max_connections'?"),
        .appending("text where a number belongs", "server:\n  workers: many\n", path: "server.workers", line: 9,
                   message: "expected a whole number, found text 'many'"),
        .appending("quoted number", "server:\n  max_body_bytes: \"1024\"\n", path: "server.max_body_bytes",
                   line: 9, message: "expected a whole number, found text"),
        .appending("zero where positive needed", "server:\n  max_connections: 0\n",
                   path: "server.max_connections", line: 9, message: "must be greater than 0, found 0"),
        .appending("negative workers", "server:\n  workers: -1\n", path: "server.workers", line: 9,
                   message: "must be at least 0, found -1"),
        .appending("text where a boolean belongs", "    email: { lowercase_local_part: \"yes\" }\n",
                   path: "sites[0].email.lowercase_local_part", line: 8, message: "expected true or false, found text"),
        .appending("mapping where a list belongs", "    gender: { allowed: { a: b } }\n",
                   path: "sites[0].gender.allowed", line: 8, message: "expected a list, found a mapping"),
        .appending("boolean where text belongs", "audit: { path: yes }\n", path: "audit.path", line: 8,
                   message: "expected text, found a boolean; put it in quotes"),
        .replacing("sites is a mapping", "sites:\n" + site, "sites: {}", path: "sites", line: 4,
                   message: "expected a list, found a mapping"),
        .replacing("bad listen", "listen: 127.0.0.1:8080", "listen: localhost", path: "listen", line: 1,
                   message: "'localhost' is not a listen address"),
        .replacing("listen port out of range", "127.0.0.1:8080", "127.0.0.1:70000", path: "listen", line: 1,
                   message: "is not a listen address"),
        .replacing("ftp upstream", "https://api", "ftp://api", path: "upstream.url", line: 3,
                   message: "scheme 'ftp' is not supported"),
        .replacing("upstream with query", "justservices.cc", "justservices.cc/?x=1", path: "upstream.url",
                   line: 3, message: "must not have a query"),
        .replacing("upstream with credentials", "https://api", "https://user:pw@api", path: "upstream.url",
                   line: 3, message: "must not contain credentials"),
        .replacing("relative upstream", "https://api.justservices.cc", "api.justservices.cc",
                   path: "upstream.url", line: 3, message: "is not an absolute URL"),
        .replacing("upstream without host", "https://api.justservices.cc", "https:///api", path: "upstream.url",
                   line: 3, message: "has no host"),
        .replacing("timeout below connect timeout", "  url: https://api.justservices.cc",
                   "  url: https://api.justservices.cc\n  connect_timeout_ms: 5000\n  timeout_ms: 1000",
                   path: "upstream.timeout_ms", line: 5, message: "must be at least connect_timeout_ms (5000)"),
        .replacing("short hex", ConfigFixtures.hashA, "abc", path: "sites[0].key_sha256", line: 6,
                   message: "expected 64 hex characters (the output of `justgate keygen`)"),
        .replacing("non-hex", ConfigFixtures.hashA, String(repeating: "g", count: 64), path: "sites[0].key_sha256",
                   line: 6, message: "expected 64 hex characters"),
        .replacing("raw key instead of hash", ConfigFixtures.hashA, SiteKeys.generate(),
                   path: "sites[0].key_sha256", line: 6, message: "looks like a site key itself"),
        .replacing("hash of empty key", ConfigFixtures.hashA, SiteKeys.sha256Hex(""), path: "sites[0].key_sha256",
                   line: 6, message: "SHA-256 of an empty key"),
        .appending("duplicate site id",
                   "  - id: horoscope-daily\n    key_sha256: \(ConfigFixtures.hashB)\n    upstream_token: { env: B }\n",
                   path: "sites[1].id", line: 8, message: "duplicate site id 'horoscope-daily'; sites[0] already uses it"),
        .appending("duplicate key hash",
                   "  - id: other\n    key_sha256: \(ConfigFixtures.hashA.uppercased())\n    upstream_token: { env: B }\n",
                   path: "sites[1].key_sha256", line: 9, message: "the same key hash as sites[0].key_sha256"),
        .replacing("invalid site id", "id: horoscope-daily", "id: Horoscope Daily", path: "sites[0].id", line: 5,
                   message: "'Horoscope Daily' is not a valid site id"),
        .replacing("two token sources", "{ env: JUST_TOKEN_HOROSCOPE }", "{ env: JUST_TOKEN_HOROSCOPE, file: /t }",
                   path: "sites[0].upstream_token", line: 7,
                   message: "give exactly one of env, file, value or vault (with field); found 'env' and 'file'"),
        .replacing("no token source", "{ env: JUST_TOKEN_HOROSCOPE }", "{}", path: "sites[0].upstream_token",
                   line: 7, message: "give exactly one of env, file, value or vault (with field); found none"),
        .replacing("unknown token source", "{ env: JUST_TOKEN_HOROSCOPE }", "{ secret: x }",
                   path: "sites[0].upstream_token", line: 7, message: "unknown key 'secret'"),
        .replacing("bad env name", "JUST_TOKEN_HOROSCOPE", "JUST-TOKEN", path: "sites[0].upstream_token.env",
                   line: 7, message: "is not an environment variable name"),
        .replacing("missing key hash", "    key_sha256: \"\(ConfigFixtures.hashA)\"\n", "", path: "sites[0]",
                   line: 5, message: "give the site a key: key_sha256 (the output of `justgate keygen`) or keys:"),
        .appending("key expiry that is not a date", "    keys: [{ sha256: \(ConfigFixtures.hashB), expires: 2027-02-30 }]\n",
                   path: "sites[0].keys[0].expires", line: 8,
                   message: "'2027-02-30' is not a date; write YYYY-MM-DD (the key is refused from 00:00 UTC that day)"),
        .appending("key expiry with a time zone offset",
                   "    keys:\n      - { sha256: \(ConfigFixtures.hashB), expires: \"2027-01-31T10:00:00+03:00\" }\n",
                   path: "sites[0].keys[0].expires", line: 9, message: "or YYYY-MM-DDTHH:MM:SSZ"),
        .appending("listed key that is not a hash", "    keys:\n      - { sha256: abc }\n",
                   path: "sites[0].keys[0].sha256", line: 9, message: "expected 64 hex characters"),
        .appending("listed key without a hash", "    keys:\n      - { expires: 2027-01-31 }\n",
                   path: "sites[0].keys[0]", line: 9, message: "missing required key 'sha256' in sites[0].keys[0]"),
        .appending("unknown key in a listed key", "    keys:\n      - { sha256: \(ConfigFixtures.hashB), until: 2027-01-31 }\n",
                   path: "sites[0].keys[0]", line: 9, message: "unknown key 'until'"),
        .appending("empty key list", "    keys: []\n", path: "sites[0].keys", line: 8,
                   message: "list at least one key"),
        .appending("listed key repeats key_sha256", "    keys:\n      - { sha256: \(ConfigFixtures.hashA), expires: 2027-01-31 }\n",
                   path: "sites[0].keys[0].sha256", line: 9,
                   message: "the same key hash as sites[0].key_sha256; every key belongs to exactly one site and is listed once (to give key_sha256 an expiry, move it into keys:"),
        .appending("listed key of another site",
                   "    keys: [{ sha256: \(ConfigFixtures.hashB) }]\n  - id: other\n    keys:\n      - { sha256: \(ConfigFixtures.hashB.uppercased()), expires: 2030-01-01 }\n    upstream_token: { env: B }\n",
                   path: "sites[1].keys[0].sha256", line: 11, message: "the same key hash as sites[0].keys[0].sha256"),
        .appending("phone with plus", "    phone: { default_country_code: \"+7\" }\n",
                   path: "sites[0].phone.default_country_code", line: 8, message: "must be 1 to 3 digits"),
        .appending("unknown operation id", "operations:\n  unsubscribe.emial: { method: POST }\n",
                   path: "operations", line: 9, message: "unknown operation 'unsubscribe.emial'; did you mean"),
        .appending("bad method", "operations:\n  unsubscribe.email: { method: FETCH }\n",
                   path: "operations[\"unsubscribe.email\"].method", line: 9,
                   message: "'FETCH' is not one of: GET, POST, PUT, PATCH, DELETE"),
        .appending("lowercase method", "operations:\n  unsubscribe.email: { method: post }\n",
                   path: "operations[\"unsubscribe.email\"].method", line: 9, message: "write it in capitals"),
        .appending("relative operation path", "operations:\n  profile.create: { path: api/x }\n",
                   path: "operations[\"profile.create\"].path", line: 9, message: "must start with /"),
        .appending("bad log level", "log: { level: verbose }\n", path: "log.level", line: 8,
                   message: "'verbose' is not one of: trace, debug, info, notice, warning, error, critical"),
        .appending("bad unknown_fields policy", "validation:\n  unknown_fields: ignore\n",
                   path: "validation.unknown_fields", line: 9, message: "'ignore' is not one of: reject, drop"),
        .appending("zero max_fields", "validation:\n  max_fields: 0\n",
                   path: "validation.max_fields", line: 9, message: "must be greater than 0"),
        .appending("admin on the site port", "admin_listen: 127.0.0.1:8080\n", path: "admin_listen", line: 8,
                   message: "must differ from listen"),
        .replacing("YAML syntax error", "  url: https://api.justservices.cc", "  url: [unclosed",
                   path: "", line: 4, message: "invalid YAML"),
        .appending("duplicate key in a mapping", "listen: 127.0.0.1:8081\n", path: "", line: 1,
                   message: "key 'listen' appears more than once"),
    ]

    @Test(arguments: cases)
    func problemIsReportedWithPathAndLine(_ testCase: ConfigErrorCase) throws {
        let problems = ConfigFixtures.problems(testCase.yaml)
        let problem = try #require(problems.first { !$0.isWarning }, "expected an error, got \(problems)")
        #expect(problems.filter { !$0.isWarning }.count == 1, "\(problems)")
        #expect(problem.path == testCase.path)
        #expect(problem.line == testCase.line)
        #expect(problem.message.contains(testCase.message), "\(problem.message)")
        #expect(problem.file == "config/justgate.yaml")
    }

    @Test func missingSitesIsReported() {
        let yaml = "listen: 127.0.0.1:8080\nupstream: { url: sandbox }\n"
        let problems = ConfigFixtures.problems(yaml)
        #expect(problems.map(\.message) == ["missing required key 'sites'; list at least one site"])
        #expect(problems.first?.line == 1)
    }

    @Test func emptyFileIsReported() {
        let problems = ConfigFixtures.problems("# nothing here\n")
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("the config is empty") == true)
    }

    @Test func everyProblemInOneFileIsReportedInLineOrder() {
        let yaml = """
            listen: nowhere
            upstream:
              url: gopher://x
              timeout_ms: soon
            bogus: 1
            sites:
              - id: a
                key_sha256: "nothex"
                upstream_token: { env: A, value: b }
                mood: happy
            log: { level: loud }

            """
        let problems = ConfigFixtures.problems(yaml)
        #expect(problems.map(\.path) == [
            "listen", "upstream.url", "upstream.timeout_ms", "", "sites[0].key_sha256", "sites[0].upstream_token",
            "sites[0]", "log.level",
        ])
        #expect(problems.map(\.line) == [1, 3, 4, 5, 8, 9, 10, 11])
        #expect(problems.allSatisfy { !$0.isWarning })
    }

    @Test func descriptionReadsLikeACompilerDiagnostic() throws {
        let yaml = ConfigFixtures.minimal.replacing(ConfigFixtures.hashA, with: "abc")
        let problem = try #require(ConfigFixtures.problems(yaml).first)
        #expect(problem.description == """
            config/justgate.yaml:6: sites[0].key_sha256: expected 64 hex characters (the output of `justgate keygen`)
            """)
    }

    @Test func errorsAboutAnInlineTokenNeverQuoteIt() {
        let yaml = ConfigFixtures.minimal.replacing(
            "{ env: JUST_TOKEN_HOROSCOPE }", with: "{ value: sekrit-token-123, file: /x }")
        let problems = ConfigFixtures.problems(yaml)
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { !$0.description.contains("sekrit") })
    }
}
