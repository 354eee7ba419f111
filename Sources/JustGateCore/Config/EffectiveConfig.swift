import JustGateHTTP

/// The configuration as justgate will run it, defaults filled in, for the one start-up log line that tells an
/// operator what is actually in force. Secrets appear only as where they come from
/// (`<redacted: env JUST_TOKEN_X>`); key hashes, being derived from keys, are left out.
public enum EffectiveConfig {
    /// A JSON object with every section.
    public static func json(_ config: GatewayConfig) -> JSONValue {
        func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
            .object(pairs.map { JSONMember(key: $0.0, value: $0.1) })
        }
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func number(_ value: Int) -> JSONValue { .number(String(value)) }
        let upstreamURL: String
        switch config.upstream.target {
        case .sandbox: upstreamURL = "sandbox"
        case .url(let url): upstreamURL = url
        }
        let server = config.server
        return object([
            ("listen", .string(config.listen.description)),
            ("admin_listen", text(config.adminListen?.description)),
            ("upstream", object([
                ("url", .string(upstreamURL)), ("connect_timeout_ms", number(config.upstream.connectTimeoutMs)),
                ("timeout_ms", number(config.upstream.timeoutMs)),
                ("max_response_bytes", number(config.upstream.maxResponseBytes)), ("ca_file", text(config.upstream.caFile)),
            ])),
            ("server", object([
                ("workers", number(server.workers)), ("max_connections", number(server.maxConnections)),
                ("header_timeout_ms", number(server.headerTimeoutMs)), ("body_timeout_ms", number(server.bodyTimeoutMs)),
                ("idle_timeout_ms", number(server.idleTimeoutMs)), ("max_body_bytes", number(server.maxBodyBytes)),
                ("max_header_bytes", number(server.maxHeaderBytes)),
                ("trusted_proxies", .array(server.trustedProxies.map { .string($0.description) })),
            ])),
            ("validation", object([("unknown_fields", .string(config.validation.unknownFields.rawValue))])),
            ("sites", .array(config.sites.map { site in
                var pairs: [(String, JSONValue)] = [("id", .string(site.id)), ("upstream_token", .string(redacted(site.upstreamToken)))]
                if let keys = site.keysFromVault { pairs.append(("keys", .string("vault \(keys.path) field \(keys.field)"))) }
                return object(pairs)
            })),
            ("secrets", config.vault.map { vault in object([("vault", vaultJSON(vault))]) } ?? .null),
            ("audit", object([
                ("enabled", .bool(config.audit.enabled)), ("path", .string(config.audit.path)),
                ("hmac_key", config.audit.hmacKey.map { .string(redacted($0)) } ?? .null),
                ("rotate_bytes", number(config.audit.rotateBytes)), ("keep_files", number(config.audit.keepFiles)),
                ("fsync", .string(config.audit.fsync.rawValue)), ("required", .bool(config.audit.required)),
            ])),
            ("log", object([
                ("level", .string(config.log.level.rawValue)), ("format", .string(config.log.format.rawValue)),
                ("requests", .string(config.log.requests.rawValue)),
            ])),
        ])
    }

    /// `secrets.vault` as the gateway uses it: where, how often, and where its credentials come from (redacted).
    static func vaultJSON(_ vault: VaultConfig) -> JSONValue {
        var pairs: [JSONMember] = [
            JSONMember(key: "address", value: .string(vault.address)),
            JSONMember(key: "ca_file", value: vault.caFile.map { .string($0) } ?? .null),
            JSONMember(key: "namespace", value: vault.namespace.map { .string($0) } ?? .null),
        ]
        switch vault.auth {
        case .appRole(let roleID, let secretID):
            pairs.append(JSONMember(key: "approle", value: .object([
                JSONMember(key: "role_id", value: .string(redacted(roleID))),
                JSONMember(key: "secret_id", value: .string(redacted(secretID))),
            ])))
        case .token(let token):
            pairs.append(JSONMember(key: "token", value: .string(redacted(token))))
        }
        pairs.append(JSONMember(key: "refresh_s", value: .number(String(vault.refreshSeconds))))
        return .object(pairs)
    }

    /// `<redacted: env NAME>`, `<redacted: file PATH>` or `<redacted: inline value>`.
    public static func redacted(_ source: SecretSource) -> String {
        switch source {
        case .env(let name): "<redacted: env \(name)>"
        case .file(let path): "<redacted: file \(path)>"
        case .value: "<redacted: inline value>"
        case .vault(let reference): "<redacted: vault \(reference.path) field \(reference.field)>"
        }
    }
}
