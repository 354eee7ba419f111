/// The answer remembered for an `Idempotency-Key`, to replay to a retry of the same request.
public struct IdempotentAnswer: Sendable, Equatable {
    /// The upstream's status (always below 500: see `IdempotencyGate`).
    public var status: Int
    /// The upstream's `Content-Type`, if it sent one.
    public var contentType: String?
    /// The body as first relayed (the upstream token already redacted), replayed byte for byte.
    public var body: [UInt8]
    /// The upstream token was taken out of this answer before it was stored; a replay is logged as
    /// redacted like the first answer.
    public var upstreamTokenRedacted: Bool

    /// The answer as it was first relayed to the site.
    public init(status: Int, contentType: String?, body: [UInt8], upstreamTokenRedacted: Bool = false) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.upstreamTokenRedacted = upstreamTokenRedacted
    }
}

/// Which requests carrying an `Idempotency-Key` have been seen, and what they were answered.
///
/// A site that timed out creating a profile cannot know whether the profile exists; resending
/// with the same key gets the first answer instead of a second profile. Keys are per site (the
/// caller joins site id and key), live `ttlMs` from their first use, and there are at most
/// `maxEntries` of them: past that the oldest is forgotten, so memory is bounded whatever
/// clients send. Time is passed in (monotonic milliseconds); the table is a plain value.
public struct IdempotencyTable: Sendable {
    /// How long a key is remembered after its first use.
    public let ttlMs: Int64
    /// Keys remembered at once; past it the oldest is forgotten.
    public let maxEntries: Int

    /// What to do with a request that carries a key.
    public enum Claim: Sendable, Equatable {
        /// First use: forward it, then `complete` with its answer.
        case proceed
        /// Seen and answered: send this answer again, forward nothing.
        case replay(IdempotentAnswer)
        /// The first request with this key is still waiting for the upstream.
        case inProgress
        /// The key was used for a request with a different body.
        case mismatch
    }

    private struct Entry: Sendable {
        var fingerprint: [UInt8]
        var answer: IdempotentAnswer?
        var expiresAtMs: Int64
    }
    private var entries: [String: Entry] = [:]
    /// Keys in the order they were claimed, which (one ttl for all) is the order they expire in.
    private var order: [(key: String, expiresAtMs: Int64)] = []
    private var orderStart = 0

    /// An empty table.
    public init(ttlMs: Int64, maxEntries: Int) {
        self.ttlMs = ttlMs
        self.maxEntries = max(maxEntries, 1)
    }

    /// What "the same request" means: the SHA-256 of the canonical upstream call (method, URL,
    /// body), so the same fields sent as JSON or as a form are one request, and 32 bytes are kept
    /// per key whatever the body's size.
    public static func fingerprint(method: String, url: String, body: [UInt8]) -> [UInt8] {
        var hash = SHA256State()
        for part in [Array(method.utf8), [0], Array(url.utf8), [0], body] {
            part.withUnsafeBytes { hash.add($0) }
        }
        var digest = SHA256Digest()
        hash.finish(into: &digest)
        return digest.withBytes { Array($0) }
    }

    /// Keys remembered now, answered or in flight.
    public var count: Int { entries.count }

    /// Looks `key` up for a request whose canonical body hashes to `fingerprint`.
    public mutating func claim(key: String, fingerprint: [UInt8], nowMs: Int64) -> Claim {
        evict(nowMs: nowMs, room: 0)
        if let entry = entries[key] {
            guard entry.fingerprint == fingerprint else { return .mismatch }
            return entry.answer.map(Claim.replay) ?? .inProgress
        }
        evict(nowMs: nowMs, room: 1)
        let expiry = nowMs + ttlMs
        entries[key] = Entry(fingerprint: fingerprint, answer: nil, expiresAtMs: expiry)
        order.append((key, expiry))
        return .proceed
    }

    /// Records the answer of a request that got `.proceed`; nil forgets the key, so a retry is
    /// forwarded again (the first attempt produced no answer worth replaying).
    public mutating func complete(key: String, fingerprint: [UInt8], answer: IdempotentAnswer?) {
        guard let entry = entries[key], entry.fingerprint == fingerprint, entry.answer == nil else { return }
        if let answer {
            entries[key]?.answer = answer
        } else {
            entries[key] = nil
        }
    }

    /// Drops expired keys, then the oldest until `room` more fit under `maxEntries`.
    private mutating func evict(nowMs: Int64, room: Int) {
        while orderStart < order.count {
            let (key, expiry) = order[orderStart]
            let isCurrent = entries[key]?.expiresAtMs == expiry
            guard !isCurrent || expiry <= nowMs || entries.count + room > maxEntries else { break }
            if isCurrent { entries[key] = nil }
            orderStart += 1
        }
        if orderStart > 1024 && orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }
}
