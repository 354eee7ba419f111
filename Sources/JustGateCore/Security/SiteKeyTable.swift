import Crypto

/// Finds which site presented a key, holding only key hashes and leaking nothing through timing.
///
/// `match` hashes the presented key once, then compares the hash with *every* stored hash over all 32 bytes,
/// accumulating differences with bitwise operations and selecting the index with a mask instead of a branch.
/// It never stops early, so the time taken does not depend on which site matched, whether any did, or how many
/// leading bytes agreed. Hashing first also makes the comparison independent of the presented key's length.
public struct SiteKeyTable: Sendable {
    /// Bytes in a SHA-256 digest; stored hashes of any other length can never match.
    public static let hashLength = 32

    private let hashes: [[UInt8]]

    /// Builds a table from `SiteConfig.keySHA256` values, in site order.
    public init(hashes: [[UInt8]]) {
        self.hashes = hashes
    }

    /// Builds a table for the given sites, so index `i` of a match is `sites[i]`.
    public init(sites: [SiteConfig]) {
        self.init(hashes: sites.map(\.keySHA256))
    }

    /// Number of stored hashes.
    public var count: Int { hashes.count }

    /// Index of the site whose key hash equals SHA-256 of `presentedKey`, or `nil`. An empty key never matches.
    ///
    /// Takes a concrete `String` (the header value as parsed): this runs on every request, and a
    /// generic parameter across the module boundary cost a runtime metadata lookup each time.
    public func match(presentedKey: String) -> Int? {
        var key = presentedKey
        let digest = key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        // found holds index + 1 of the matching hash, or 0; keys are unique so at most one hash matches.
        var found: UInt = 0
        digest.withUnsafeBytes { presented in
            for (index, stored) in hashes.enumerated() {
                var difference: UInt32 = stored.count == SiteKeyTable.hashLength ? 0 : 1
                for byteIndex in 0..<SiteKeyTable.hashLength {
                    let storedByte = byteIndex < stored.count ? stored[byteIndex] : 0
                    difference |= UInt32(storedByte ^ presented[byteIndex])
                }
                // 1 when difference == 0, else 0, computed without a comparison branch.
                let isEqual = UInt((difference &- 1) >> 31)
                found |= (0 &- isEqual) & UInt(index + 1)
            }
        }
        let emptyMask: UInt = presentedKey.isEmpty ? 0 : ~0
        found &= emptyMask
        return found == 0 ? nil : Int(found - 1)
    }

    /// The same for a slice of a larger string.
    public func match(presentedKey: Substring) -> Int? {
        match(presentedKey: String(presentedKey))
    }
}
