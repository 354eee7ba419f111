import Yams

/// `admin_token_sha256` and `shutdown:`: what the admin listener demands and how long a stop waits.
extension ConfigLoader {
    /// The SHA-256 of the admin token; like site keys, the token itself is never stored.
    static func adminTokenHash(_ node: Node?, reader: inout ConfigNodeReader) -> [UInt8]?? {
        guard let node else { return .some(nil) }
        guard let text = reader.string(node, at: "admin_token_sha256") else { return nil }
        guard text.utf8.count == 64, let bytes = SiteKeyHex.decode(text) else {
            reader.error("expected 64 hex characters: the SHA-256 of the admin token (`justgate keygen` makes one)",
                         at: "admin_token_sha256", node: node)
            return nil
        }
        if isPlaceholderHash(text) {
            reader.error("is a placeholder, not the hash of a token; run `justgate keygen` and put the key_sha256 it "
                         + "prints here (the key is the admin token)", at: "admin_token_sha256", node: node)
            return nil
        }
        return .some(bytes)
    }

    /// The admin endpoints reload the config and expose traffic numbers: off loopback they demand a token.
    static func checkAdminExposure(_ admin: ListenAddress, tokenHash: [UInt8]?, node: Node?, reader: inout ConfigNodeReader) {
        guard !admin.isLoopback, tokenHash == nil else { return }
        reader.error("""
            \(admin) is reachable from other machines, so the admin endpoints need admin_token_sha256 \
            (callers then send Authorization: Bearer <token>); or listen on 127.0.0.1
            """, at: "admin_listen", node: node)
    }

    static func shutdownConfig(_ node: Node?, reader: inout ConfigNodeReader) -> ShutdownConfig? {
        guard let node else { return ShutdownConfig() }
        guard let section = reader.mapping(node, at: "shutdown", knownKeys: ["grace_ms"]) else { return nil }
        return reader.int(in: section, "grace_ms", default: ShutdownConfig().graceMs, atLeast: 0).map(ShutdownConfig.init)
    }
}
