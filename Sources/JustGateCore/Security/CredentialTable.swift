/// Whether a text is a credential (a site key, current or expired, or an upstream token) of a given site or of
/// another, found without leaking through timing which one, if any, it was.
///
/// The request driver asks this of a site's `X-Request-Id`: an id is echoed, logged and forwarded, so one that
/// is a credential must be kept out of the log and the upstream call, while the answer must not tell the
/// site whether a guess was another site's credential (see `RequestDriver.assignRequestIDs`). Like
/// `SiteKeyTable`, the text is hashed once (SHA-256, so its length does not matter) and the hash is
/// compared with every stored hash over all 32 bytes, differences accumulated with bitwise operations and
/// the match selected with a mask: the time taken does not depend on whether or where a match was.
/// Upstream tokens are stored as their hashes too, so the table holds no credential in plain.
public struct CredentialTable: Sendable {
    /// 32 bytes per entry, entries back to back.
    private let hashes: [UInt8]
    /// The site index of each entry.
    private let owners: [Int]

    /// - Parameters:
    ///   - keyHashesBySite: for each site (by index), the SHA-256 of each of its keys (`SiteConfig.allKeys`).
    ///   - upstreamTokens: each site's upstream token, by the same index.
    public init(keyHashesBySite: [[[UInt8]]], upstreamTokens: [String]) {
        var hashes: [UInt8] = []
        var owners: [Int] = []
        for (site, keyHashes) in keyHashesBySite.enumerated() {
            // A stored hash of the wrong length can never match (the loader refuses them anyway).
            for hash in keyHashes where hash.count == SiteKeyTable.hashLength {
                hashes += hash
                owners.append(site)
            }
        }
        for (site, token) in upstreamTokens.enumerated() where !token.isEmpty {
            hashes += SiteKeys.sha256(token)
            owners.append(site)
        }
        self.hashes = hashes
        self.owners = owners
    }

    /// Whose credential a text is, as far as the site at `ownSite` may be told.
    public enum Holder: Sendable, Equatable {
        /// No site's credential (or empty).
        case nobody
        /// A credential of `ownSite` (perhaps also of another site: two sites may share an upstream token).
        case ownSite
        /// A credential of another site only.
        case otherSite
    }

    /// Whose credential `text` is, seen from the site at index `ownSite`. Every entry is compared whatever
    /// matched; the answer is made from two accumulated bits, not from an early exit.
    public func holder(of text: String, ownSite: Int) -> Holder {
        var text = text
        let digest = text.withUTF8 { SHA256State.digest(of: UnsafeRawBufferPointer($0)) }
        var anyMatch: UInt32 = 0
        var ownMatch: UInt32 = 0
        digest.withBytes { presented in
            hashes.withUnsafeBufferPointer { stored in
                for entry in 0..<owners.count {
                    var difference: UInt32 = 0
                    let base = entry * SiteKeyTable.hashLength
                    for byte in 0..<SiteKeyTable.hashLength {
                        difference |= UInt32(stored[base + byte] ^ presented[byte])
                    }
                    // 1 when difference == 0, else 0, computed without a comparison branch.
                    let isEqual = (difference &- 1) >> 31
                    anyMatch |= isEqual
                    // Which entries are the site's own is no secret: only `isEqual` is.
                    ownMatch |= isEqual & (owners[entry] == ownSite ? 1 : 0)
                }
            }
        }
        if text.isEmpty { return .nobody }
        return ownMatch == 1 ? .ownSite : anyMatch == 1 ? .otherSite : .nobody
    }
}
