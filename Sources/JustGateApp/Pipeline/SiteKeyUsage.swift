import JustGateCore
import Synchronization

/// When each site key was last used, for `justgate_site_key_last_used_timestamp_seconds{site,key}`: an operator
/// rotating a key sees when a site has stopped sending the old one, and can retire it then.
///
/// One slot per entry of the context's `SiteKeyTable` (same indexes), each an atomic of its own: every event
/// loop writes it without a lock, relaxed, and only when the second has changed (`used(_:at:)` loads first), so
/// a key in steady use costs each loop one store a second and otherwise a read of a shared, unchanging line.
/// Made with each context; a reload carries the times of keys it keeps over from the previous one.
final class SiteKeyUsage: Sendable {
    /// One key's slot: its fingerprint (made once, so a request never formats one) and its last use.
    final class Slot: Sendable {
        let site: String
        let fingerprint: String
        /// The key's expiry, Unix seconds; nil for a key that does not expire.
        let expires: Int64?
        /// Unix seconds of the last request authenticated with this key (current or expired); 0 for never.
        let lastUsed: Atomic<Int64>

        init(site: String, fingerprint: String, expires: Int64?, lastUsed: Int64) {
            self.site = site
            self.fingerprint = fingerprint
            self.expires = expires
            self.lastUsed = Atomic(lastUsed)
        }
    }

    let slots: [Slot]

    /// A slot for every key in `keys`, named after `siteIDs[site]`; a key `previous` had (same site, same
    /// fingerprint) keeps its last-used time.
    init(keys: SiteKeyTable, siteIDs: [String], previous: SiteKeyUsage?) {
        var earlier: [String: Int64] = [:]
        for slot in previous?.slots ?? [] { earlier[slot.site + "/" + slot.fingerprint] = slot.lastUsed.load(ordering: .relaxed) }
        slots = (0..<keys.count).map { index in
            let (key, site) = keys.key(at: index)
            let fingerprint = key.fingerprint
            return Slot(site: siteIDs[site], fingerprint: fingerprint, expires: key.expiry?.unixSeconds, lastUsed: earlier[siteIDs[site] + "/" + fingerprint] ?? 0)
        }
    }

    /// Notes that the key at `index` was used at `now` (Unix seconds).
    func used(_ index: Int, at now: Int64) {
        let slot = slots[index]
        if slot.lastUsed.load(ordering: .relaxed) != now { slot.lastUsed.store(now, ordering: .relaxed) }
    }

    /// Every key's site, fingerprint and last use (Unix seconds, 0 for not since start), for a scrape.
    var lastUses: [(site: String, key: String, unixSeconds: Int64)] {
        slots.map { (site: $0.site, key: $0.fingerprint, unixSeconds: $0.lastUsed.load(ordering: .relaxed)) }
    }

    /// `{"keys":[{"site":"…","key":"<fingerprint>","last_used":<Unix seconds or null>,"expires":<Unix seconds or
    /// null>},…]}` for the admin listener's `GET /keys`: what `justgate sites` adds to its config-only view while
    /// the gateway runs. Fingerprints only, never a key or its hash.
    func json() -> [UInt8] {
        var out = Array("{\"keys\":[".utf8)
        for (index, slot) in slots.enumerated() {
            if index > 0 { out.append(0x2C) }
            JSONBytesWriter.appendRaw("{\"site\":", to: &out)
            JSONBytesWriter.appendQuoted(slot.site, to: &out)
            JSONBytesWriter.appendRaw(",\"key\":", to: &out)
            JSONBytesWriter.appendQuoted(slot.fingerprint, to: &out)
            JSONBytesWriter.appendRaw(",\"last_used\":", to: &out)
            let lastUsed = slot.lastUsed.load(ordering: .relaxed)
            if lastUsed > 0 { JSONBytesWriter.appendInteger(Int(lastUsed), to: &out) } else { JSONBytesWriter.appendRaw("null", to: &out) }
            JSONBytesWriter.appendRaw(",\"expires\":", to: &out)
            if let expires = slot.expires {
                JSONBytesWriter.appendInteger(Int(expires), to: &out)
            } else {
                JSONBytesWriter.appendRaw("null", to: &out)
            }
            out.append(0x7D)
        }
        JSONBytesWriter.appendRaw("]}", to: &out)
        return out
    }
}
