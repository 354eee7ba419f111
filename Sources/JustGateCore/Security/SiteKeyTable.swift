/// Which site presented a key, and whether that key still works: the answer of `SiteKeyTable.match`.
public enum SiteKeyMatch: Sendable, Equatable {
    /// A current key of the site at this index.
    case site(Int)
    /// A key of the site at this index that expired; the request is refused and told which key (by fingerprint).
    case expired(site: Int, key: SiteKey)
    /// No site has this key (or the key is empty).
    case unknown
}

/// Finds which site presented a key, holding only key hashes and leaking nothing through timing.
///
/// A site may have several keys (while it rotates), so the table holds one entry per key, each pointing at its
/// site. `match` hashes the presented key once, then compares the hash with *every* stored hash over all 32
/// bytes, accumulating differences with bitwise operations and selecting the entry with a mask instead of a
/// branch. It never stops early, so the time taken does not depend on which key matched, whether any did, or
/// how many leading bytes agreed. Hashing first also makes the comparison independent of the key's length.
/// Expiry is looked at only after the match, for the one matching key.
public struct SiteKeyTable: Sendable {
    /// Bytes in a SHA-256 digest; stored hashes of any other length can never match.
    public static let hashLength = 32

    private struct Entry {
        var key: SiteKey
        var site: Int
    }

    private let entries: [Entry]

    /// One key without expiry per site, in site order (index `i` of a match is site `i`).
    public init(hashes: [[UInt8]]) {
        entries = hashes.enumerated().map { Entry(key: SiteKey(sha256: $0.element), site: $0.offset) }
    }

    /// Every key of every site (`SiteConfig.allKeys`), so a match's index `i` is `sites[i]`.
    public init(sites: [SiteConfig]) {
        entries = sites.enumerated().flatMap { index, site in site.allKeys.map { Entry(key: $0, site: index) } }
    }

    /// Number of stored keys (a site with two keys counts twice).
    public var count: Int { entries.count }

    /// The site whose key hash equals SHA-256 of `presentedKey`, checked against the key's expiry at `now`
    /// (Unix seconds). An empty key never matches.
    ///
    /// The admin token check uses this; the request path uses `lookup`, which also gives the key's index.
    public func match(presentedKey: String, now: Int64) -> SiteKeyMatch {
        lookup(presentedKey: presentedKey, now: now).match
    }

    /// `match`, and the index of the key that matched (current or expired), for `key(at:)`: the request's
    /// record names the key it used by fingerprint, and its last use is kept per key.
    /// Takes a concrete `String` (the header value as parsed): this runs on every request, and a
    /// generic parameter across the module boundary cost a runtime metadata lookup each time.
    public func lookup(presentedKey: String, now: Int64) -> (match: SiteKeyMatch, keyIndex: Int?) {
        guard let entry = matchingEntry(presentedKey) else { return (.unknown, nil) }
        let found = entries[entry]
        return (found.key.isExpired(at: now) ? .expired(site: found.site, key: found.key) : .site(found.site), entry)
    }

    /// The key at `index` (as `lookup` gave it) and the index of its site.
    public func key(at index: Int) -> (key: SiteKey, site: Int) {
        (entries[index].key, entries[index].site)
    }

    /// Index of the entry whose hash matches, in constant time over all entries; hashes are unique across
    /// the config (the loader refuses duplicates), so at most one matches.
    private func matchingEntry(_ presentedKey: String) -> Int? {
        var key = presentedKey
        // On the stack, not `SiteKeys.sha256`'s array: this runs once for every request (`RequestDriver.screen`).
        let digest = key.withUTF8 { SHA256State.digest(of: UnsafeRawBufferPointer($0)) }
        // found holds index + 1 of the matching entry, or 0.
        var found: UInt = 0
        digest.withBytes { presented in
            for (index, entry) in entries.enumerated() {
                let stored = entry.key.sha256
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
}
