/// When the gateway's own Vault token must be renewed or replaced by a new login.
///
/// A token is renewed at two thirds of its lease, so a slow or failed renewal still has a third of the lease to
/// try again before the token expires. Vault caps renewals at the role's `token_max_ttl`: a renewal that comes
/// back shorter than asked for means the cap is near, so the next step is a fresh login (for AppRole) at two
/// thirds of what is left, never a token that runs out under a read. Pure: time is passed in, in seconds.
public struct VaultTokenPlan: Sendable, Equatable {
    /// What to do before the next read.
    public enum Step: Sendable, Equatable {
        /// The token is good for the reads now.
        case keep
        /// Call `auth/token/renew-self`.
        case renew
        /// Log in again (AppRole); a given token cannot log in and is renewed instead while it can be.
        case login
    }

    /// When the current token was obtained or last renewed (monotonic seconds).
    public private(set) var since: Double
    /// Its lease in seconds; 0 for a token that never expires.
    public private(set) var leaseSeconds: Int
    /// Whether Vault said it may be renewed.
    public private(set) var renewable: Bool
    /// Whether the last renewal came back shorter than the first lease: the max TTL is near.
    public private(set) var nearMaxTTL = false
    /// The lease the login gave, to tell a capped renewal from a normal one.
    private var loginLeaseSeconds: Int

    /// The plan for a token just obtained by a login (or given by the operator) at `now`.
    public init(loginAt now: Double, leaseSeconds: Int, renewable: Bool) {
        since = now
        self.leaseSeconds = leaseSeconds
        self.renewable = renewable
        loginLeaseSeconds = leaseSeconds
    }

    /// The moment the next step is due: two thirds into the lease; nil for a token that never expires.
    public var dueAt: Double? {
        // A renewal that gave nothing left (the max TTL is reached) is due at once: log in again.
        if leaseSeconds <= 0 && nearMaxTTL { return since }
        guard leaseSeconds > 0 else { return nil }
        return since + Double(leaseSeconds) * 2 / 3
    }

    /// Whether the token's lease has run out at `now` (it must not be used any more).
    public func isExpired(at now: Double) -> Bool {
        leaseSeconds > 0 && now >= since + Double(leaseSeconds)
    }

    /// What to do at `now`; `canLogIn` is false for a token given by the operator.
    public func step(at now: Double, canLogIn: Bool) -> Step {
        guard let dueAt, now >= dueAt else { return .keep }
        if canLogIn && (!renewable || nearMaxTTL || isExpired(at: now)) { return .login }
        // A given token cannot be replaced: ask Vault even when this clock says the lease is over (Vault rounds
        // TTLs down to whole seconds, so the token may well be alive); a refusal keeps it while it lasts.
        if !canLogIn { return renewable ? .renew : .keep }
        return renewable && !isExpired(at: now) ? .renew : .login
    }

    /// Records a renewal at `now` that gave `leaseSeconds`.
    public mutating func renewed(at now: Double, leaseSeconds: Int, renewable: Bool) {
        // A renewal shorter than the login's lease is Vault capping it at the role's token_max_ttl.
        nearMaxTTL = leaseSeconds < loginLeaseSeconds
        since = now
        self.leaseSeconds = leaseSeconds
        self.renewable = renewable
    }
}
