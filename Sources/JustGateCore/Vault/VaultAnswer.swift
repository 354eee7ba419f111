/// Reads Vault's JSON answers (with the project's own `JSONParser`): a login or renewal, and a KV secret.
///
/// Pure, so every shape Vault answers with (KV v1 and v2, a deleted version, an error list) is tested without a
/// server. Messages name the path and field and quote Vault's own error text, never a value or a token.
public enum VaultAnswer {
    /// The client token a login or a renewal gave, and for how long.
    public struct Lease: Sendable, Equatable {
        /// The gateway's Vault token (`auth.client_token`).
        public var token: Secret
        /// Seconds the token lives from now (`auth.lease_duration`); 0 for a token that never expires.
        public var seconds: Int
        /// Whether `auth/token/renew-self` may extend it (`auth.renewable`).
        public var renewable: Bool

        /// A lease as Vault describes it.
        public init(token: Secret, seconds: Int, renewable: Bool) {
            self.token = token
            self.seconds = seconds
            self.renewable = renewable
        }
    }

    /// The `auth` block of a login or `renew-self` answer; nil when the body has none.
    public static func lease(_ body: String) -> Lease? {
        guard let root = try? JSONParser.parse(body), let auth = member(root, "auth"),
              case .string(let token)? = member(auth, "client_token"), !token.isEmpty
        else { return nil }
        let seconds = number(member(auth, "lease_duration")) ?? 0
        let renewable: Bool = if case .bool(true)? = member(auth, "renewable") { true } else { false }
        return Lease(token: Secret(token), seconds: max(seconds, 0), renewable: renewable)
    }

    /// The field of a KV read answered with `status`: KV v2 (`data.data.<field>`, `data.metadata.version`) or
    /// KV v1 (`data.<field>`), told apart by the answer's shape.
    public static func secret(status: Int, body: String, reference: VaultSecretReference)
        -> Result<VaultSecretValue, VaultReadError>
    {
        let root = try? JSONParser.parse(body)
        switch status {
        case 200: break
        case 404:
            // KV v2 answers 404 for a deleted or destroyed latest version too, with its metadata.
            let deleted = root.flatMap { member($0, "data") }.flatMap { member($0, "metadata") }
                .map { if case .string(let time)? = member($0, "deletion_time"), !time.isEmpty { true } else { false } } ?? false
            let what = deleted ? "its latest version is deleted" : "no secret at this path"
            return .failure(VaultReadError("\(reference): \(what) (404); write it with `bao kv put`", isMissing: true))
        case 403:
            return .failure(VaultReadError("""
                \(reference): permission denied (403); the gateway's Vault policy must grant read on this path
                """))
        default:
            return .failure(VaultReadError("\(reference): Vault answered \(status)\(errorsSuffix(root))"))
        }
        guard let root, let data = member(root, "data") else {
            return .failure(VaultReadError("\(reference): the answer has no data; is this a KV path?"))
        }
        let isVersion2: Bool = if case .object? = member(data, "data"), member(data, "metadata") != nil { true } else { false }
        let fields = isVersion2 ? member(data, "data") : data
        let version = isVersion2 ? member(data, "metadata").flatMap { number(member($0, "version")) } : nil
        guard let fields, case .object = fields else {
            return .failure(VaultReadError("\(reference): the secret holds no data", isMissing: true))
        }
        guard let value = member(fields, reference.field) else {
            let names = keys(fields).prefix(10).joined(separator: ", ")
            return .failure(VaultReadError("""
                \(reference): the secret has no field '\(reference.field)' (it has: \(names.isEmpty ? "none" : names)); \
                fix field or write it with `bao kv put`
                """, isMissing: true))
        }
        switch value {
        case .string(let text): return .success(VaultSecretValue(value: Secret(text), version: version))
        // A list or object (a site's `keys` written through the API) is kept as its JSON text.
        case .array, .object: return .success(VaultSecretValue(value: Secret(JSONWriter.compact(value)), version: version))
        default: return .failure(VaultReadError("\(reference): field '\(reference.field)' is not a string"))
        }
    }

    /// `: permission denied; …` from Vault's `errors` list (bounded), or nothing.
    public static func errorsSuffix(_ body: String) -> String {
        errorsSuffix(try? JSONParser.parse(body))
    }

    private static func errorsSuffix(_ root: JSONValue?) -> String {
        guard let root, case .array(let items)? = member(root, "errors") else { return "" }
        let texts = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        guard !texts.isEmpty else { return "" }
        let joined = texts.joined(separator: "; ")
        return ": " + (joined.count <= 300 ? joined : String(joined.prefix(299)) + "…")
    }

    private static func member(_ value: JSONValue, _ key: String) -> JSONValue? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }

    private static func keys(_ value: JSONValue) -> [String] {
        guard case .object(let members) = value else { return [] }
        return members.map(\.key)
    }

    private static func number(_ value: JSONValue?) -> Int? {
        guard case .number(let literal)? = value else { return nil }
        return Int(literal)
    }
}
