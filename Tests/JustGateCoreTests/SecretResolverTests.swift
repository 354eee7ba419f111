import Testing

@testable import JustGateCore

/// Token resolution against a fake environment: successes, every failure collected, and no token in any message.
@Suite struct SecretResolverTests {
    static let token = "cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS"

    func site(_ id: String, _ source: SecretSource, key: String? = nil) -> SiteConfig {
        SiteConfig(id: id, keySHA256: SiteKeys.sha256(key ?? "key-of-\(id)"), upstreamToken: source)
    }

    func problems(_ sites: [SiteConfig], _ environment: FakeSecretEnvironment) -> [ConfigProblem] {
        switch SecretResolver.resolve(sites, environment: environment) {
        case .success: return []
        case .failure(let errors): return errors.problems
        }
    }

    @Test func resolvesEnvFileAndInlineValues() throws {
        let environment = FakeSecretEnvironment(
            variables: ["JUST_TOKEN_A": "token-a"],
            files: ["/run/secrets/b": "  token-b\n"])
        let sites = [
            site("a", .env("JUST_TOKEN_A")), site("b", .file("/run/secrets/b")), site("c", .value(Secret("token-c"))),
        ]
        let resolved = try SecretResolver.resolve(sites, environment: environment).get()
        #expect(resolved.map { $0.upstreamToken.reveal() } == ["token-a", "token-b", "token-c"])
        #expect(resolved.map(\.config.id) == ["a", "b", "c"])
    }

    @Test func fileWithTrailingNewlineIsTrimmed() throws {
        let environment = FakeSecretEnvironment(files: ["/t": "\(Self.token)\r\n"])
        let resolved = try SecretResolver.resolve([site("a", .file("/t"))], environment: environment).get()
        #expect(resolved.first?.upstreamToken.reveal() == Self.token)
    }

    @Test func missingEnvironmentVariableSaysWhatToDo() {
        let found = problems([site("horoscope-daily", .env("JUST_TOKEN_HOROSCOPE"))], FakeSecretEnvironment())
        #expect(found == [ConfigProblem(
            path: "sites[0].upstream_token", line: nil,
            message: """
                site 'horoscope-daily': environment variable JUST_TOKEN_HOROSCOPE is not set; export it or point \
                upstream_token at a file
                """)])
    }

    @Test func unreadableFileNamesThePath() throws {
        let found = problems([site("news", .file("/run/secrets/news"))], FakeSecretEnvironment())
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.message.hasPrefix("site 'news': cannot read token file /run/secrets/news (permission denied)"))
    }

    /// Environment values are used exactly as set; file contents are trimmed first, so a file may end in CR LF.
    @Test(arguments: [
        ("", "is empty", "is empty"),
        (" \n\t", "contains a control character", "is empty"),
        ("\(token)\nX-Injected: 1", "contains a control character", "contains a control character"),
        ("\(token)\r", "contains a control character", nil),
        ("abc\u{0}def", "contains a control character", "contains a control character"),
        ("abc\u{7F}", "contains a control character", "contains a control character"),
        ("abc\u{85}def", "contains a control character", "contains a control character"),
        ("tökén-\(token)", "contains non-ASCII characters", "contains non-ASCII characters"),
    ] as [(String, String, String?)])
    func badTokensAreRejectedWithoutQuotingThem(contents: String, fromEnv: String, fromFile: String?) {
        let environment = FakeSecretEnvironment(variables: ["T": contents], files: ["/t": contents])
        let found = problems([site("a", .env("T")), site("b", .file("/t"))], environment)
        #expect(found.map(\.path) == ["sites[0].upstream_token"] + (fromFile == nil ? [] : ["sites[1].upstream_token"]))
        #expect(found.first?.message.contains("site 'a': the token from environment variable T \(fromEnv)") == true)
        if let fromFile {
            #expect(found.last?.message.contains("site 'b': the token from file /t \(fromFile)") == true)
        }
        for problem in found {
            #expect(!problem.message.contains(Self.token))
            #expect(!problem.message.contains("Injected"))
            #expect(!problem.message.contains("abc"))
        }
    }

    @Test func everyFailureIsCollected() {
        let environment = FakeSecretEnvironment(variables: ["EMPTY": ""], files: ["/ok": "fine"])
        let sites = [
            site("a", .env("MISSING")), site("b", .file("/ok")), site("c", .file("/missing")), site("d", .env("EMPTY")),
        ]
        let found = problems(sites, environment)
        #expect(found.map(\.path) == ["sites[0].upstream_token", "sites[2].upstream_token", "sites[3].upstream_token"])
        #expect(found.map { $0.message.prefix(10) } == ["site 'a': ", "site 'c': ", "site 'd': "])
    }

    @Test func siteKeyEqualToAnUpstreamTokenIsRejected() throws {
        let environment = FakeSecretEnvironment(variables: ["TA": Self.token, "TB": "token-b"])
        let sites = [site("a", .env("TA")), site("b", .env("TB"), key: Self.token)]
        let found = problems(sites, environment)
        let problem = try #require(found.first)
        #expect(found.count == 1)
        #expect(problem.path == "sites[1].key_sha256")
        #expect(problem.message.contains("a site key must not be an upstream token"))
        #expect(problem.message.contains("site 'a''s upstream token"))
        #expect(!problem.message.contains(Self.token))
    }
}
