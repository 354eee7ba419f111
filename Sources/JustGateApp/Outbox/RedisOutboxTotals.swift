import JustGateRedis

/// The Redis-wide readings the `stats` script answers: accounted bytes, and the sites that have pending or dead
/// entries (a site with neither is left out, as with the file backend).
struct RedisOutboxTotals: Sendable {
    var bytes = 0
    var sites: [String: (pending: Int, dead: Int, oldestAgeSeconds: Double)] = [:]

    init() {}

    /// `[bytes, site, pending, dead, age ms, site, …]`; nil for any other shape (the last readings stay).
    init?(_ items: [RESPValue]) {
        guard case .integer(let bytes)? = items.first, items.count % 4 == 1 else { return nil }
        self.bytes = Int(bytes)
        var index = 1
        while index + 3 < items.count {
            guard case .bulk(let site?) = items[index], case .integer(let pending) = items[index + 1],
                  case .integer(let dead) = items[index + 2], case .integer(let ageMs) = items[index + 3] else { return nil }
            sites[String(decoding: site, as: UTF8.self)] = (Int(pending), Int(dead), Double(ageMs) / 1000)
            index += 4
        }
    }
}
