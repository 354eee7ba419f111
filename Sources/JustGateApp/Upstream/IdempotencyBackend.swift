import JustGateCore
import JustGateReactor
import JustGateServer

/// Where one event loop's `IdempotencyGate` keeps `Idempotency-Key`s: the process's memory
/// (`IdempotencyStore`) or a Redis every gateway shares (`RedisIdempotencyStore`).
///
/// The answer arrives through a completion on the loop that asked: at once from memory, later from
/// Redis, like the limiter's `SharedQuotaStore`. Nothing here blocks the loop, and the gate is written
/// the same way for both, so the pipeline's phase driver can treat it as one more phase that may wait.
protocol IdempotencyBackend: AnyObject {
    /// Looks the key up and, when it is new, marks it in flight for `claim.leaseMs`.
    /// `completion` runs on this loop exactly once.
    func claim(_ claim: IdempotencyClaim, completion: @escaping (IdempotencyClaimAnswer) -> Void)
    /// Keeps `answer` for the rest of the key's `ttl_s`, or forgets the key (nil), but only if it is
    /// still the in-flight mark `claim` set.
    func complete(_ claim: IdempotencyClaim, answer: IdempotentAnswer?)
}

/// One request's claim on a key: who asked, with which request, and for how long.
struct IdempotencyClaim {
    var siteID: String
    /// The key as the site sent it (backends digest it before storing, see `IdempotencyRedisKey`).
    var key: String
    /// `IdempotencyTable.fingerprint` of the canonical upstream call.
    var fingerprint: [UInt8]
    /// How long the in-flight mark may outlive a gateway that died holding it.
    var leaseMs: Int64
    /// When the key was claimed (monotonic), from which the answer's remaining lifetime is counted.
    var claimedAtNanos: UInt64
    /// Random per claim: a late completion cannot overwrite a claim another gateway made after the lease.
    var token: String

    init(siteID: String, key: String, fingerprint: [UInt8], leaseMs: Int64) {
        self.siteID = siteID
        self.key = key
        self.fingerprint = fingerprint
        self.leaseMs = leaseMs
        claimedAtNanos = MonotonicInstant.now().nanoseconds
        var random = SystemRandomNumberGenerator()
        token = String(random.next() as UInt64, radix: 16) + String(random.next() as UInt64, radix: 16)
    }

    /// The key of the process-wide table: per site.
    var memoryKey: String { siteID + "\n" + key }
}

/// What the backend said about a claim.
enum IdempotencyClaimAnswer: Equatable {
    case decided(IdempotencyTable.Claim)
    /// The shared store cannot be asked (Redis down, timed out, or a reply refused): the request is not
    /// forwarded, since forwarding unchecked could create the duplicate the key exists to prevent.
    case unavailable
}

extension IdempotencyStore: IdempotencyBackend {
    func claim(_ claim: IdempotencyClaim, completion: @escaping (IdempotencyClaimAnswer) -> Void) {
        completion(.decided(self.claim(key: claim.memoryKey, fingerprint: claim.fingerprint)))
    }

    func complete(_ claim: IdempotencyClaim, answer: IdempotentAnswer?) {
        complete(key: claim.memoryKey, fingerprint: claim.fingerprint, answer: answer)
    }
}
