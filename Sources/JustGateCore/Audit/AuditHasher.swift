import Crypto

/// Computes a record's `hash`: HMAC-SHA-256 with the audit key, so only a holder of the key can write a record
/// that verifies; or plain SHA-256 when no key is configured, which still catches accidents and careless edits
/// but not someone who recomputes the chain (check-config says so).
///
/// Not `Sendable`: swift-crypto's `SymmetricKey` is not; a hasher lives on the writer thread or in `verify`.
public struct AuditHasher {
    private let key: SymmetricKey?

    /// - Parameter key: the audit key's bytes; `nil` for a plain SHA-256 chain.
    public init(key: [UInt8]?) {
        self.key = key.map { SymmetricKey(data: $0) }
    }

    /// Whether records are signed with a key.
    public var isKeyed: Bool { key != nil }

    /// Lowercase hex of the hash of `canonical`.
    public func hash(_ canonical: [UInt8]) -> String {
        if let key {
            return AuditHasher.hex(HMAC<SHA256>.authenticationCode(for: canonical, using: key))
        }
        return AuditHasher.hex(SHA256.hash(data: canonical))
    }

    /// The plain SHA-256 of `canonical`, to recognise a record re-signed by someone without the key.
    public static func plainHash(_ canonical: [UInt8]) -> String {
        hex(SHA256.hash(data: canonical))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
