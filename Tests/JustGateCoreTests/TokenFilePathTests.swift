import Testing

@testable import JustGateCore

/// `${CREDENTIALS_DIRECTORY}` in token file paths, as systemd's `LoadCredential=` needs.
@Suite struct TokenFilePathTests {
    func site(_ path: String) -> SiteConfig {
        SiteConfig(id: "a", keySHA256: SiteKeys.sha256("k"), upstreamToken: .file(path))
    }

    @Test(arguments: ["${CREDENTIALS_DIRECTORY}/horoscope", "$CREDENTIALS_DIRECTORY/horoscope"])
    func theLeadingVariableIsTheCredentialsDirectory(path: String) throws {
        let environment = FakeSecretEnvironment(
            variables: ["CREDENTIALS_DIRECTORY": "/run/credentials/justgate.service/"],
            files: ["/run/credentials/justgate.service/horoscope": "token-from-systemd\n"])
        let resolved = try SecretResolver.resolve([site(path)], environment: environment).get()
        #expect(resolved.first?.upstreamToken.reveal() == "token-from-systemd")
    }

    @Test func anUnsetVariableSaysToRunUnderSystemdOrWriteThePath() throws {
        let result = SecretResolver.resolve([site("${CREDENTIALS_DIRECTORY}/horoscope")], environment: FakeSecretEnvironment())
        guard case .failure(let errors) = result else {
            Issue.record("resolved without CREDENTIALS_DIRECTORY")
            return
        }
        let message = try #require(errors.problems.first?.message)
        #expect(message.hasPrefix("site 'a': the token file path ${CREDENTIALS_DIRECTORY}/horoscope uses $CREDENTIALS_DIRECTORY, which is not set"))
        #expect(message.contains("LoadCredential="))
    }

    @Test func anUnreadableExpandedFileShowsBothSpellings() throws {
        let environment = FakeSecretEnvironment(variables: ["CREDENTIALS_DIRECTORY": "/run/credentials/x"])
        let result = SecretResolver.resolve([site("${CREDENTIALS_DIRECTORY}/t")], environment: environment)
        guard case .failure(let errors) = result else {
            Issue.record("resolved a missing file")
            return
        }
        #expect(errors.problems.first?.message.contains("cannot read token file ${CREDENTIALS_DIRECTORY}/t (/run/credentials/x/t)") == true)
    }

    @Test func otherDollarsAreNotExpanded() {
        #expect(TokenFilePath.isWellFormed("/etc/justgate/token"))
        #expect(TokenFilePath.isWellFormed("${CREDENTIALS_DIRECTORY}/token"))
        #expect(!TokenFilePath.isWellFormed("$HOME/token"))
        #expect(!TokenFilePath.isWellFormed("${CREDENTIALS_DIRECTORY}x/token"))
        #expect(!TokenFilePath.isWellFormed("/run/${CREDENTIALS_DIRECTORY}/token"))
        #expect(!TokenFilePath.usesCredentialsDirectory("/run/${CREDENTIALS_DIRECTORY}/token"))
        let expanded = TokenFilePath.expand("/etc/$x", environment: FakeSecretEnvironment(variables: ["x": "y"]))
        #expect((try? expanded.get()) == "/etc/$x")
    }

    @Test func theLoaderRefusesAnyOtherVariable() throws {
        let yaml = ConfigFixtures.minimal.replacing("{ env: JUST_TOKEN_HOROSCOPE }", with: "{ file: $HOME/token }")
        let problem = try #require(ConfigFixtures.problems(yaml).first)
        #expect(problem.path == "sites[0].upstream_token.file")
        #expect(problem.line == 7)
        #expect(problem.message.hasPrefix("only a leading ${CREDENTIALS_DIRECTORY}"))
    }
}
