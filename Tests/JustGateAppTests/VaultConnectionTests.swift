import Foundation
import JustGateApp
import JustGateCore
import Logging
import Testing

/// How the gateway reaches a real OpenBao dev server: a given token kept alive by renewals (also when its lease
/// is shorter than refresh_s), a namespace, https verified with ca_file, a reload that reads Vault at once, and
/// two gateways that switch to a rotated token within refresh_s of each other.
@Suite(.serialized) struct VaultConnectionTests {
    static let reference = VaultSecretReference(path: "secret/data/justgate/horoscope-daily", field: "token")
    let cli = CommandLineTests()

    /// A gateway in this process whose horoscope-daily token comes from Vault, with `vaultYAML` as its
    /// `secrets.vault` body, forwarding to a capturing upstream; the log goes to a file.
    final class Gateway {
        let upstream: CapturingUpstream
        let logPath: String
        let runtime: GatewayRuntime

        init(vaultYAML: String, environment: [String: String]) throws {
            upstream = try CapturingUpstream()
            let yaml = """
                listen: 127.0.0.1:0
                upstream: { url: "http://127.0.0.1:\(upstream.port)" }
                secrets:
                  vault:
                \(vaultYAML.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
                sites:
                  - id: horoscope-daily
                    key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                    upstream_token: { vault: "secret/data/justgate/horoscope-daily", field: token }
                audit: { enabled: false }
                """
            let config = try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get().config
            let secrets = FixedSecretEnvironment(values: environment)
            logPath = NSTemporaryDirectory() + "justgate-vault-conn-\(UUID().uuidString).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let sink = LogSink(fd: open(logPath, O_WRONLY | O_APPEND))
            var logger = Logger(label: "justgate-test") { JSONLogHandler(label: $0, level: .trace, sink: sink) }
            logger.logLevel = .trace
            let vault = try VaultSecretSource(config: try #require(config.vault), environment: secrets, logger: logger)
            let reads = vault.readNow(config.sites.vaultReferences)
            let sites = try SecretResolver.resolve(config.sites, environment: secrets, vault: reads).get()
            runtime = try GatewayRuntime(config: config, sites: sites, logger: logger, vault: vault, requestLogSink: sink)
        }

        deinit {
            runtime.stop()
            upstream.stop()
            try? FileManager.default.removeItem(atPath: logPath)
        }

        func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        func forwardedToken() throws -> String? {
            let raw = "GET \(ReloadAndShutdownTests.segments) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n"
            let answer = try RawHTTPClient(port: runtime.address.port).exchange(raw)
            #expect(answer.status == 200, "\(answer.text)")
            return upstream.requests.last?.headers["x-auth-token"]
        }
    }

    /// A token lease (2 s) shorter than refresh_s (5 s): the refresher wakes to renew it, so the round at 5 s
    /// still reads. Before it woke only every refresh_s, the token had expired by then and the round got 403.
    @Test func aGivenTokenIsRenewedEvenWhenItsLeaseIsShorterThanRefresh() throws {
        let bao = try BaoServer()
        _ = try bao.appRole()  // the justgate policy
        let token = try bao.token(ttl: "2s")
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.firstToken])
        let gateway = try Gateway(vaultYAML: """
            address: \(bao.address)
            token: { env: GIVEN_VAULT_TOKEN }
            refresh_s: 5
            """, environment: ["GIVEN_VAULT_TOKEN": token])
        #expect(try gateway.forwardedToken() == VaultTokenTests.firstToken)
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.secondToken])
        let seen = Polling.read(timeoutSeconds: 8, until: { $0 == VaultTokenTests.secondToken }) { try? gateway.forwardedToken() }
        #expect(seen == VaultTokenTests.secondToken, "\(gateway.log())")
        usleep(5_500_000)  // another round, several leases later
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.firstToken])
        let again = Polling.read(timeoutSeconds: 7, until: { $0 == VaultTokenTests.firstToken }) { try? gateway.forwardedToken() }
        #expect(again == VaultTokenTests.firstToken, "\(gateway.log())")
        #expect(!gateway.log().contains("cannot be read"), "\(gateway.log())")
        #expect(!gateway.log().contains(token))
    }

    /// `namespace: ops` sends `X-Vault-Namespace: ops`: the value read is the one in the namespace.
    @Test func theNamespaceHeaderReadsFromThatNamespace() throws {
        let bao = try BaoServer()
        try bao.put("justgate/horoscope-daily", ["token": "root-namespace-value"])
        let created = try bao.api("POST", "sys/namespaces/ops", "{}")
        #expect(created.status == 200 || created.status == 204, "namespace: \(created.text)")
        let mounted = try bao.api("POST", "sys/mounts/secret", #"{"type":"kv","options":{"version":"2"}}"#, namespace: "ops")
        #expect(mounted.status == 204 || mounted.status == 200, "mount: \(mounted.text)")
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.secondToken], namespace: "ops")
        let vault = VaultConfig(address: bao.address, namespace: "ops", auth: .token(.env("T")))
        let source = try VaultSecretSource(config: vault, environment: FixedSecretEnvironment(values: ["T": BaoServer.rootToken]),
                                           logger: Logger(label: "t"))
        let read = try source.readNow([Self.reference])[Self.reference]?.get()
        #expect(read?.value.reveal() == VaultTokenTests.secondToken)
    }

    /// https: with ca_file the server's certificate (from a CA made for this run) is accepted; without it,
    /// verification against the system's store refuses it and the error says so.
    @Test func httpsIsVerifiedWithCAFile() throws {
        let bao = try BaoServer(tls: true)
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.firstToken])
        let environment = FixedSecretEnvironment(values: ["T": BaoServer.rootToken])
        let trusted = VaultConfig(address: bao.address, caFile: bao.caFile, auth: .token(.env("T")))
        let read = try VaultSecretSource(config: trusted, environment: environment, logger: Logger(label: "t"))
            .readNow([Self.reference])[Self.reference]
        #expect((try? read?.get())?.value.reveal() == VaultTokenTests.firstToken, "\(String(describing: read))")
        let untrusted = VaultConfig(address: bao.address, auth: .token(.env("T")))
        let refused = try VaultSecretSource(config: untrusted, environment: environment, logger: Logger(label: "t"))
            .readNow([Self.reference])[Self.reference]
        guard case .failure(let error)? = refused else { Issue.record("read without trusting the CA"); return }
        #expect(error.message.contains("cannot reach Vault at \(bao.address)"), "\(error.message)")
        #expect(error.message.lowercased().contains("certificate"), "\(error.message)")
    }

    /// `serve` with secrets in Vault and refresh_s an hour: SIGHUP and POST /reload read Vault at once.
    @Test func aReloadReadsVaultAtOnce() throws {
        let bao = try BaoServer()
        let credentials = try bao.appRole()
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.firstToken])
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let path = try cli.writeTemporary(Self.serveYAML(bao: bao, upstreamPort: upstream.port, refresh: 3600))
        var serve = try cli.startServe(config: path, environment: Self.environment(credentials))
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        let reload = ReloadAndShutdownTests()
        #expect(try reload.get(port).status == 200)
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.secondToken])
        serve.process.signal(SIGHUP)
        serve.log += serve.process.readStderr(until: "config reloaded", timeoutSeconds: 10)
        #expect(try reload.get(port).status == 200)
        try bao.put("justgate/horoscope-daily", ["token": "vault-upstream-token-THREE-3333"])
        let admin = try #require(reload.adminPort(serve), "\(serve.log)")
        #expect(try reload.postReload(admin).status == 200)
        #expect(try reload.get(port).status == 200)
        let tokens = upstream.requests.map { $0.headers["x-auth-token"] }
        #expect(tokens == [VaultTokenTests.firstToken, VaultTokenTests.secondToken, "vault-upstream-token-THREE-3333"])
        for secret in [VaultTokenTests.firstToken, VaultTokenTests.secondToken, credentials.roleID, credentials.secretID] {
            #expect(!serve.log.contains(secret))
        }
    }

    /// Two `serve` processes on one Vault, refresh_s 2: both send the rotated token within 2 s of the write, so
    /// within refresh_s of each other.
    @Test func twoGatewaysSwitchToARotatedTokenWithinRefreshOfEachOther() throws {
        let bao = try BaoServer()
        let credentials = try bao.appRole()
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.firstToken])
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let path = try cli.writeTemporary(Self.serveYAML(bao: bao, upstreamPort: upstream.port, refresh: 2))
        var first = try cli.startServe(config: path, environment: Self.environment(credentials))
        defer { _ = first.stop() }
        var second = try cli.startServe(config: path, environment: Self.environment(credentials))
        defer { _ = second.stop() }
        let ports = [try #require(first.port, "\(first.log)"), try #require(second.port, "\(second.log)")]
        let reload = ReloadAndShutdownTests()
        func token(via port: Int) -> String? {
            guard (try? reload.get(port).status) == 200 else { return nil }
            return upstream.requests.last?.headers["x-auth-token"]
        }
        #expect(ports.map(token(via:)) == [VaultTokenTests.firstToken, VaultTokenTests.firstToken])
        try bao.put("justgate/horoscope-daily", ["token": VaultTokenTests.secondToken])
        let written = Date()
        var switched: [Int: Double] = [:]
        while switched.count < 2, Date().timeIntervalSince(written) < 8 {
            for port in ports where switched[port] == nil && token(via: port) == VaultTokenTests.secondToken {
                switched[port] = Date().timeIntervalSince(written)
            }
            usleep(50_000)
        }
        let times = ports.compactMap { switched[$0] }
        #expect(times.count == 2, "not both gateways switched: \(switched)")
        // Each switches at its first round after the write: within refresh_s (2 s), plus a round's and a poll's
        // time on a loaded machine.
        #expect(times.allSatisfy { $0 <= 3 }, "a gateway took longer than refresh_s: \(times)")
        #expect((times.max() ?? 0) - (times.min() ?? 0) <= 2.3, "\(times)")
    }

    static func environment(_ credentials: (roleID: String, secretID: String)) -> [String: String] {
        ["VAULT_ROLE_ID": credentials.roleID, "VAULT_SECRET_ID": credentials.secretID]
    }

    static func serveYAML(bao: BaoServer, upstreamPort: Int, refresh: Int) -> String {
        """
        listen: 127.0.0.1:0
        admin_listen: 127.0.0.1:0
        upstream: { url: "http://127.0.0.1:\(upstreamPort)" }
        secrets:
          vault:
            address: \(bao.address)
            approle: { role_id: { env: VAULT_ROLE_ID }, secret_id: { env: VAULT_SECRET_ID } }
            refresh_s: \(refresh)
        sites:
          - id: horoscope-daily
            key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
            upstream_token: { vault: "secret/data/justgate/horoscope-daily", field: token }
        audit: { enabled: false }
        """
    }
}
