#if canImport(Glibc)
import Glibc
#endif

/// The in-process limiter: GCRA instants in striped tables shared by every event loop.
///
/// Striped rather than per-loop: with `SO_REUSEPORT` any loop may receive any site's request, so a
/// key cannot belong to one loop without handing requests between threads. 64 stripes keep two
/// loops from meeting on a lock except on the same hot key, where they must meet to be exact. A
/// request's stripes are locked in ascending order, all at once, so a request counted by several
/// policies is decided all-or-nothing without deadlock.
///
/// Bounded: each stripe holds at most `maxKeys / stripes` instants. A key whose instant lies in
/// the past is fully recovered, the same as absent, so it is the first to go; if a stripe is still
/// full, the keys closest to full recovery (earliest instants) go next.
public final class MemoryQuotaStore: Sendable {
    private let stripes: [Stripe]
    private let capacityPerStripe: Int
    public static let stripeCount = 64

    public init(maxKeys: Int) {
        capacityPerStripe = max(16, maxKeys / MemoryQuotaStore.stripeCount)
        stripes = (0..<MemoryQuotaStore.stripeCount).map { _ in Stripe() }
    }

    /// Keys held now, across stripes (for metrics and the bound's test).
    public var keyCount: Int {
        stripes.reduce(0) { total, stripe in
            stripe.lock()
            defer { stripe.unlock() }
            return total + stripe.instants.count
        }
    }

    /// Decides `checks` at `now` (monotonic microseconds) and stores the new instants if admitted.
    public func admit(_ checks: [QuotaCheck], now: Int64) -> QuotaVerdict {
        guard !checks.isEmpty else { return .unlimited }
        if checks.count == 1 {
            // The common case, one policy: one lookup and at most one store under one lock.
            let key = checks[0].keyHash
            let stripe = stripes[stripeIndex(key)]
            stripe.lock()
            defer { stripe.unlock() }
            let stored = stripe.instants[key]
            return QuotaVerdict.evaluate(checks, storedTATs: { _ in stored }, now: now, commit: { _, tat in
                if stored == nil && stripe.instants.count >= capacityPerStripe {
                    stripe.makeRoom(now: now, capacity: capacityPerStripe)
                }
                stripe.instants[key] = tat
            })
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: checks.count) { order in
            var count = 0
            for check in checks {
                let index = stripeIndex(check.keyHash)
                // Insertion into a sorted, duplicate-free list: a handful of policies at most.
                var position = count
                while position > 0 && order[position - 1] > index { position -= 1 }
                if position > 0 && order[position - 1] == index { continue }
                var move = count
                while move > position { order[move] = order[move - 1]; move -= 1 }
                order[position] = index
                count += 1
            }
            for position in 0..<count { stripes[order[position]].lock() }
            defer { for position in (0..<count).reversed() { stripes[order[position]].unlock() } }
            return decide(checks, now: now)
        }
    }

    /// Runs with every stripe of `checks` locked.
    private func decide(_ checks: [QuotaCheck], now: Int64) -> QuotaVerdict {
        QuotaVerdict.evaluate(
            checks,
            storedTATs: { index in stripes[stripeIndex(checks[index].keyHash)].instants[checks[index].keyHash] },
            now: now,
            commit: { index, tat in
                let stripe = stripes[stripeIndex(checks[index].keyHash)]
                if stripe.instants[checks[index].keyHash] == nil && stripe.instants.count >= capacityPerStripe {
                    stripe.makeRoom(now: now, capacity: capacityPerStripe)
                }
                stripe.instants[checks[index].keyHash] = tat
            })
    }

    /// Drops recovered keys from one stripe; the loops call it in turn so idle keys do not linger
    /// until a stripe fills.
    public func sweep(stripe number: Int, now: Int64) {
        let stripe = stripes[number % stripes.count]
        stripe.lock()
        defer { stripe.unlock() }
        stripe.instants = stripe.instants.filter { $0.value > now }
    }

    private func stripeIndex(_ hash: Int) -> Int {
        // The hash is already mixed (Hasher); the top bits pick the stripe, leaving the low bits to
        // the stripe's own dictionary.
        Int(UInt(bitPattern: hash) >> (UInt.bitWidth - 6))
    }
}

/// One lock and the instants it guards.
///
/// `@unchecked Sendable` because the compiler cannot see the lock: `instants` is read and written
/// only between `lock()` and `unlock()`, which `MemoryQuotaStore` (this type's only user) keeps to.
/// A `Mutex` would check that for us, but a request locks several stripes at once, in order, and a
/// `Mutex` only offers nested closures, which cannot hand the tables out together.
private final class Stripe: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    var instants: [Int: Int64] = [:]

    init() {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Frees at least an eighth of the stripe: recovered keys first, then the earliest instants.
    func makeRoom(now: Int64, capacity: Int) {
        instants = instants.filter { $0.value > now }
        let target = capacity - max(1, capacity / 8)
        guard instants.count > target else { return }
        let cutoff = instants.values.sorted()[instants.count - target - 1]
        instants = instants.filter { $0.value > cutoff }
    }
}
