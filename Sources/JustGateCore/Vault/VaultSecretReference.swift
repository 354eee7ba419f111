/// One field of one Vault (or OpenBao) KV secret: `{ vault: "secret/data/justgate/horoscope-daily", field: token }`.
///
/// The path is the API path after `/v1/`, as `bao read` takes it: `secret/data/…` for a KV version 2 mount,
/// `kv/…` for a version 1 mount. The gateway tells the two apart by the answer's shape, not by the path, so any
/// mount name works. Hashable, so every site naming the same secret shares one read.
public struct VaultSecretReference: Sendable, Hashable, CustomStringConvertible {
    /// The API path after `/v1/`, without a leading slash.
    public var path: String
    /// The key inside the secret's data that holds the token.
    public var field: String

    /// A reference as written in the config; `ConfigLoader` checks the path before it builds one.
    public init(path: String, field: String) {
        self.path = path
        self.field = field
    }

    /// `Vault secret/data/justgate/x (field token)`: where the value is, never the value. Safe to log.
    public var description: String { "Vault \(path) (field \(field))" }

    /// Why `path` cannot be a Vault API path, or nil when it can: no leading `/` or `v1/`, no empty, `.` or
    /// `..` segments, no query, only printable ASCII without spaces (the path goes into a URL as written).
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "must be the secret's path, e.g. secret/data/justgate/SITE" }
        if path.hasPrefix("/") || path.hasPrefix("v1/") {
            return "write the path as `bao read` takes it, without a leading / or v1/ (e.g. secret/data/justgate/SITE)"
        }
        let allowed = path.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x2F || byte == 0x40 || byte == 0x3A
        }
        guard allowed else { return "may only hold letters, digits and - . _ / @ : (no spaces, ? or %)" }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "has an empty, . or .. segment; write the secret's full path"
        }
        return nil
    }
}
