/// Where deferred calls are kept until they are delivered (issue 25): the `outbox:` section.
///
/// Read whether or not a site defers anything, so a typo is reported before the first deferral; the runtime
/// opens the outbox only when some site lists operations in `defer`.
public struct OutboxConfig: Sendable, Equatable {
    /// Where entries live.
    public enum Backend: String, Sendable, CaseIterable {
        /// Append-only segment files under `path`: one gateway.
        case file
        /// Redis Streams at `redis_url`: several gateways share one outbox.
        case redis
    }

    /// The documented retry waits, like Svix's: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h.
    public static let defaultRetryMs = [5000, 30000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000]

    public var backend: Backend = .file
    /// The file backend's directory (mode 0700). A path written in the config file is relative to the file's
    /// directory (the loader makes it absolute); the built-in default stays relative to the working directory,
    /// like `audit.path`'s.
    public var path: String = "var/outbox"
    /// The redis backend's server; required with `backend: redis`.
    public var redisURL: String?
    /// The wait before each retry, by attempts made (the first wait follows the first attempt); the last repeats.
    public var retryMs: [Int] = OutboxConfig.defaultRetryMs
    /// An entry not delivered this long after it was deferred is dead.
    public var maxAgeSeconds: Int = 259_200
    /// Pending entries take at most this many bytes; a call that would be deferred beyond it gets 503.
    public var maxBytes: Int = 1_073_741_824
    /// Redis: how long a gateway holds the entries it is delivering before another may take them over.
    public var leaseMs: Int = 30_000
    /// The drain's floor: deliveries this gateway starts per second at least while entries are due, even while
    /// live calls are under way (`DeliveryPacer`). A backlog of N entries is then gone within N / rate seconds
    /// (100,000 at the default 200/s: under 9 minutes); each delivery takes about a live call's CPU and upstream
    /// capacity, so the floor is what a drain may take from live calls under steady load.
    public var minDeliveryRate: Int = 200
    /// How much longer than the longest upstream deadline `lease_ms` must be with Redis (`checkOutboxLease`).
    public static let leaseMarginMs = 1000

    /// The largest `max_age_s` accepted (365 days): more overflows the policy's millisecond arithmetic.
    public static let maxAgeSecondsLimit = 365 * 86_400
    /// The largest wait in `retry_ms` accepted (7 days), for the same reason.
    public static let retryMsLimit = 7 * 86_400_000

    /// Builds the documented defaults; adjust fields afterwards.
    public init() {}
}
