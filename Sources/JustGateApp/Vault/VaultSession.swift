#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import JustGateReactor
import JustGateUpstream

/// The gateway's side of a conversation with Vault: its own token (from an AppRole login or the operator), kept
/// alive by renewals and fresh logins (`VaultTokenPlan`), and KV reads made with it.
///
/// Blocking (libcurl easy handle): it runs on the refresher's thread, or before the gateway serves (start-up,
/// `check-config`, `sites`), never on an event loop. Not thread-safe; `VaultSecretSource` owns it behind a lock.
/// Nothing it logs, throws or returns as text holds the Vault token, the role id or the secret id.
final class VaultSession {
    private let config: VaultConfig
    private let environment: any SecretEnvironment
    private let http: BlockingHTTPClient
    private var token: Secret?
    private var plan: VaultTokenPlan?

    init(config: VaultConfig, environment: any SecretEnvironment) throws(VaultReadError) {
        self.config = config
        self.environment = environment
        do {
            http = try BlockingHTTPClient(caFile: config.caFile)
        } catch {
            throw VaultReadError("cannot prepare the Vault client: \(error)")
        }
    }

    /// Reads every reference, logging in or renewing first when due. A failure to reach Vault or to log in is
    /// reported for every reference (`isReachable` false); a missing path or field only for its own.
    func read(_ references: [VaultSecretReference]) -> (reads: VaultReads, reachable: Bool) {
        var reads: VaultReads = [:]
        do {
            try ensureToken()
        } catch {
            for reference in references { reads[reference] = .failure(VaultReadError("\(reference): \(error.message)")) }
            return (reads, false)
        }
        var reachable = true
        for reference in references {
            switch get(reference) {
            case .success(let value): reads[reference] = .success(value)
            case .failure(let error):
                reads[reference] = .failure(error.read)
                if error.isTransport { reachable = false }
            }
        }
        return (reads, reachable)
    }

    /// Seconds until the gateway's token must be renewed or replaced (0 when overdue); nil when there is no
    /// token yet or it never expires. The refresher wakes then too, so a lease shorter than `refresh_s` never
    /// runs out between two rounds.
    func secondsUntilTokenStep(at now: Double = VaultSession.monotonicSeconds()) -> Double? {
        guard token != nil, let dueAt = plan?.dueAt else { return nil }
        return max(0, dueAt - now)
    }

    /// Renews the token (or logs in again) if that is due, without reading any secret. A failure is not
    /// reported here: the next round tries again and reports it for every secret.
    func keepTokenAlive() {
        try? ensureToken()
    }

    private struct GetFailure: Error {
        var read: VaultReadError
        var isTransport: Bool
    }

    private func get(_ reference: VaultSecretReference) -> Result<VaultSecretValue, GetFailure> {
        guard let token else { return .failure(GetFailure(read: VaultReadError("no Vault token"), isTransport: true)) }
        let answer: (status: Int, body: String)
        do {
            answer = try http.perform(BlockingHTTPRequest(method: "GET", url: "\(config.address)/v1/\(reference.path)",
                                                          headers: headers(token: token)))
        } catch {
            return .failure(GetFailure(read: VaultReadError("\(reference): cannot reach Vault at \(config.address) (\(error))"),
                                       isTransport: true))
        }
        if answer.status == 403 { plan = nil }  // perhaps the token was revoked: log in again next time
        return VaultAnswer.secret(status: answer.status, body: answer.body, reference: reference)
            .mapError { GetFailure(read: $0, isTransport: answer.status >= 500) }
    }

    /// Logs in when there is no token or it must be replaced; renews it at two thirds of its lease.
    private func ensureToken() throws(VaultReadError) {
        let now = Self.monotonicSeconds()
        let canLogIn = if case .appRole = config.auth { true } else { false }
        guard let current = plan, token != nil else {
            try logIn(at: now)
            return
        }
        switch current.step(at: now, canLogIn: canLogIn) {
        case .keep: return
        case .login: try logIn(at: now)
        case .renew:
            do {
                try renew(at: now)
            } catch {
                // Refused (max TTL reached, revoked): a new login if there is one, else keep the token while it lasts.
                if canLogIn { try logIn(at: now) } else if current.isExpired(at: now) { throw error }
            }
        }
    }

    private func logIn(at now: Double) throws(VaultReadError) {
        switch config.auth {
        case .token(let source):
            let given = try Self.read(source, what: "the Vault token", environment: environment)
            // A given token is looked up to learn its lease; a token that cannot renew is used as long as it lasts.
            token = given
            let answer = try call("GET", "auth/token/lookup-self", body: nil, token: given)
            let seconds = Self.ttl(answer.body)
            plan = VaultTokenPlan(loginAt: now, leaseSeconds: seconds, renewable: seconds > 0)
        case .appRole(let roleSource, let secretSource):
            let roleID = try Self.read(roleSource, what: "the AppRole role_id", environment: environment)
            let secretID = try Self.read(secretSource, what: "the AppRole secret_id", environment: environment)
            let body = JSONWriter.compact(.object([JSONMember(key: "role_id", value: .string(roleID.reveal())),
                                                   JSONMember(key: "secret_id", value: .string(secretID.reveal()))]))
            let answer = try call("POST", "auth/approle/login", body: body, token: nil)
            guard answer.status == 200, let lease = VaultAnswer.lease(answer.body) else {
                throw VaultReadError("""
                    the AppRole login was refused (\(answer.status)\(VaultAnswer.errorsSuffix(answer.body))); check \
                    role_id and secret_id (secret ids can expire: make a new one with `bao write -f \
                    auth/approle/role/ROLE/secret-id`)
                    """)
            }
            token = lease.token
            plan = VaultTokenPlan(loginAt: now, leaseSeconds: lease.seconds, renewable: lease.renewable)
        }
    }

    private func renew(at now: Double) throws(VaultReadError) {
        guard let token else { throw VaultReadError("no Vault token to renew") }
        let answer = try call("POST", "auth/token/renew-self", body: "{}", token: token)
        guard answer.status == 200, let lease = VaultAnswer.lease(answer.body) else {
            throw VaultReadError("renewing the gateway's Vault token was refused (\(answer.status))")
        }
        self.token = lease.token
        plan?.renewed(at: now, leaseSeconds: lease.seconds, renewable: lease.renewable)
    }

    private func call(_ method: String, _ path: String, body: String?, token: Secret?) throws(VaultReadError)
        -> (status: Int, body: String)
    {
        do {
            return try http.perform(BlockingHTTPRequest(method: method, url: "\(config.address)/v1/\(path)",
                                                        headers: headers(token: token), body: body))
        } catch {
            throw VaultReadError("cannot reach Vault at \(config.address) (\(error)); is it running and is secrets.vault.address right?")
        }
    }

    private func headers(token: Secret?) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let token { headers.append(("X-Vault-Token", token.reveal())) }
        if let namespace = config.namespace { headers.append(("X-Vault-Namespace", namespace)) }
        headers.append(("Content-Type", "application/json"))
        return headers
    }

    /// `data.ttl` of a `lookup-self` answer (0 when absent: a token that never expires).
    private static func ttl(_ body: String) -> Int {
        guard case .object(let root)? = try? JSONParser.parse(body),
              case .object(let data)? = root.first(where: { $0.key == "data" })?.value,
              case .number(let literal)? = data.first(where: { $0.key == "ttl" })?.value
        else { return 0 }
        return Int(literal) ?? 0
    }

    /// Reads a credential from its file or variable, trimmed; the error names the source, never the contents.
    private static func read(_ source: SecretSource, what: String, environment: any SecretEnvironment) throws(VaultReadError) -> Secret {
        var raw: String?
        switch source {
        case .env(let name): raw = environment.environmentValue(name)
        case .file(let written):
            if case .success(let path) = TokenFilePath.expand(written, environment: environment) {
                raw = try? environment.fileContents(path)
            }
        case .value(let secret): raw = secret.reveal()
        case .vault: raw = nil
        }
        let trimmed = raw?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !trimmed.isEmpty else {
            throw VaultReadError("cannot read \(what) from \(source); check that it exists and the gateway may read it")
        }
        return Secret(trimmed)
    }

    /// The token plan (`VaultTokenPlan`) counts fractional seconds; this is the monotonic clock in that unit.
    static func monotonicSeconds() -> Double {
        Double(MonotonicInstant.now().nanoseconds) / 1e9
    }
}
