import Crypto
import Foundation

/// Computes a record's `hash`: HMAC-SHA-256 with the audit key, so only a holder of the key can write a record
/// that verifies; or plain SHA-256 when no key is configured, which still catches accidents and careless edits
/// but not someone who recomputes the chain (check-config says so).
///
/// Not `Sendable`: swift-crypto's `SymmetricKey` is not; a hasher lives on the writer thread or in `verify`.
public struct AuditHasher {
    /// HMAC keyed once: keying derives the inner and outer pads, and redoing that for every record was a
    /// visible share of the writer thread's time; a copy of the keyed state costs a few words.
    private let keyed: HMAC<SHA256>?

    /// - Parameter key: the audit key's bytes; `nil` for a plain SHA-256 chain.
    public init(key: [UInt8]?) {
        self.keyed = key.map { HMAC<SHA256>(key: SymmetricKey(data: $0)) }
    }

    /// Whether records are signed with a key.
    public var isKeyed: Bool { keyed != nil }

    /// Lowercase hex of the hash of `canonical`.
    public func hash(_ canonical: [UInt8]) -> String {
        if var mac = keyed {
            mac.update(data: canonical)
            return AuditHasher.hex(mac.finalize())
        }
        return AuditHasher.hex(SHA256.hash(data: canonical))
    }

    /// The plain SHA-256 of `canonical`, to recognise a record re-signed by someone without the key.
    public static func plainHash(_ canonical: [UInt8]) -> String {
        hex(SHA256.hash(data: canonical))
    }

    /// Lowercase hex written straight into the string's storage (32 bytes → 64 digits).
    private static func hex(_ digest: some ContiguousBytes) -> String {
        digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = hexDigit(byte >> 4)
                    out[2 * index + 1] = hexDigit(byte & 0x0F)
                }
                return bytes.count * 2
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }
}
