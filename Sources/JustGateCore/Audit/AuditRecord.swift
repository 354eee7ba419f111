/// One line of the audit log: what happened to one request, or a note about the chain itself.
///
/// Every record has every key, `null` where a value is unknown, in the fixed order of `AuditRecord.keys`, so
/// operators (and `jq`) never need to guess whether a key is missing or empty, and so the canonical bytes that
/// are hashed are the bytes on disk. Personal values are already masked when they get here (`AuditMasking`);
/// nothing else of what a site sends is ever stored.
public struct AuditRecord: Sendable, Equatable {
    /// What a record is about.
    public enum Event: String, Sendable, CaseIterable {
        /// One request that reached justgate.
        case request
        /// The first record of a new log: nothing on disk before it.
        case chainStart = "chain_start"
        /// justgate found a torn last line at start-up; this record says so and links to the last intact one.
        case chainRestart = "chain_restart"
        /// The config was read again (SIGHUP or `POST /reload`), applied or refused: `client` says who asked
        /// (`signal`, or the admin peer's address), `outcome` is `applied` or `refused`, and `note` says what
        /// changed (`ReloadChanges.sentence`) or why it was refused. In the chain, so a key or token change
        /// cannot be hidden by editing a log line.
        case reload
        /// An upstream token or a site's key list read from Vault changed and is in force: `site`, `client`
        /// `vault`, `note` the source, KV version and the old and new fingerprints, or the key fingerprints added
        /// and removed (never a value).
        case secretRotated = "secret_rotated"
        /// A deferred call's delivery attempt ended (issue 25): `request_id` of the deferred request, `site`,
        /// `operation`, `attempts`, `upstream_status`, `reason` (why no answer came), `outcome` the verdict
        /// (`delivered`, `dead` or `retry`) and `note` the outbox entry id. Never the call's body or the token.
        /// An operator's retry or drop of an entry is one too: `outcome` `retried` or `dropped`, `reason`
        /// `operator`, `client` the admin peer.
        case delivery
    }

    /// The keys in the order they are written; `hash` is always last, so the canonical form is the line
    /// without its last member.
    public static let keys = [
        "time", "seq", "event", "request_id", "site", "key", "operation", "method", "path", "client", "outcome", "reason",
        "status", "upstream_status", "duration_ms", "upstream_ms", "attempts", "errors", "policy", "trace_id", "juid", "email",
        "phone", "ip", "note", "prev", "hash",
    ]

    /// The keys of logs written before justgate recorded `key` and `reason`. `verify`,
    /// `query`, `summary` and a restarting writer read such lines as they are (their hash covers their own bytes),
    /// with `key` and `reason` `nil`; new lines always have every key of `keys`.
    public static let keysWithoutKeyAndReason = keys.filter { $0 != "key" && $0 != "reason" }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-29T17:02:03.456Z` (fixed width, so text order is time order).
    public var time: String
    /// Position in the chain, 1 for the first record ever written; gaps and reversals show deletions and reordering.
    public var seq: Int = 0
    public var event: Event = .request
    public var requestID: String?
    /// The authenticated site; `nil` when the request was not authenticated.
    public var site: String?
    /// The fingerprint (first 12 hex digits of its SHA-256) of the site key the request presented, current or
    /// expired; `nil` when no configured key matched. Tells which of a site's keys it is using while it rotates.
    public var key: String?
    public var operation: String?
    public var method: String?
    /// The path, with long opaque segments redacted (`AuditRedaction.path`) and never the query.
    public var path: String?
    /// The peer address.
    public var client: String?
    /// `forwarded`, `rejected_invalid`, `rejected_auth`, `rate_limited`, `upstream_error`, `upstream_timeout`,
    /// `upstream_auth_failed`, `client_gone` (and `rejected_overload` for the 503 at the connection limit).
    public var outcome: String?
    /// Why the request got no usable upstream answer: a word of `UpstreamFailureReason` (`connect_refused`,
    /// `timeout_after_sending`, `circuit_open`, `upstream_auth_failed`, …); `nil` otherwise.
    public var reason: String?
    public var status: Int?
    public var upstreamStatus: Int?
    /// Whole request in microseconds, written as milliseconds with three decimals.
    public var durationMicros: Int?
    /// The upstream exchange in microseconds, written as milliseconds with three decimals.
    public var upstreamMicros: Int?
    public var attempts: Int?
    /// Field problems, field name and code only, never the value.
    public var errors: [AuditFieldError] = []
    /// The rate-limit policy that rejected the request.
    public var policy: String?
    /// The W3C trace id the request was forwarded under (continued from the site or started here).
    public var traceID: String?
    public var juid: String?
    /// Masked: `e***@example.com`.
    public var email: String?
    /// Masked: `7912*****89`.
    public var phone: String?
    /// Masked to its /24 (IPv4) or /48 (IPv6).
    public var ip: String?
    /// A human sentence on chain records (why the chain restarted) and reload records (what changed); `nil` on
    /// request records.
    public var note: String?
    /// The previous record's `hash`; 64 zeros for the very first record.
    public var prev: String = AuditChain.genesis
    /// HMAC-SHA-256 (or SHA-256 without a key) of the canonical record, hex.
    public var hash: String = ""

    /// A record at `time`; fill in what is known.
    public init(time: String, event: Event = .request) {
        self.time = time
        self.event = event
    }
}

/// One rejected field as the audit log keeps it: which field and why, never what was sent.
public struct AuditFieldError: Sendable, Equatable {
    /// The field name, `nil` when the site sent a name justgate does not know (it could be anything).
    public var field: String?
    public var code: String

    /// Pairs a field with its problem code.
    public init(field: String?, code: String) {
        self.field = field
        self.code = code
    }
}
