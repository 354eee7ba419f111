/// A field's value as read from Vault, with the KV version it came from (nil on a KV version 1 mount).
public struct VaultSecretValue: Sendable, Equatable {
    /// The token; only `reveal()` shows it.
    public var value: Secret
    /// KV v2 `metadata.version`, shown with fingerprints so an operator can match a rotation to a write.
    public var version: Int?

    /// Pairs a value with its version.
    public init(value: Secret, version: Int?) {
        self.value = value
        self.version = version
    }
}

/// Why a secret could not be read: names the path, the field and what to do; never a value or a token.
public struct VaultReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole message, ready to follow "site 'x': ".
    public var message: String
    /// Whether Vault answered that the secret is gone (404 or a deleted KV v2 version) rather than failing.
    public var isMissing: Bool

    /// An error with its message.
    public init(_ message: String, isMissing: Bool = false) {
        self.message = message
        self.isMissing = isMissing
    }

    /// The message.
    public var description: String { message }
}

/// What one round of reads from Vault produced, by reference: a value or the reason there is none.
public typealias VaultReads = [VaultSecretReference: Result<VaultSecretValue, VaultReadError>]

extension SiteConfig {
    /// The Vault secret this site's token comes from, or nil for env, file and inline tokens.
    public var vaultReference: VaultSecretReference? {
        if case .vault(let reference) = upstreamToken { return reference }
        return nil
    }
}

extension Array where Element == SiteConfig {
    /// Every Vault secret these sites name (tokens and `keys: { vault: }`), each once, in file order.
    public var vaultReferences: [VaultSecretReference] {
        var seen = Set<VaultSecretReference>()
        return flatMap { [$0.vaultReference, $0.keysFromVault].compactMap { $0 } }.filter { seen.insert($0).inserted }
    }
}
