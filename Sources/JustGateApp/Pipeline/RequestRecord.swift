import JustGateHTTP

/// What happened to one request, built up as it moves through the pipeline. The request log
/// line is written from it, and later stages (metrics, audit) read the same record rather than
/// re-deriving anything.
public struct RequestRecord: Sendable {
    public var requestID: String
    public var method: String
    public var path: String
    public var clientAddress: String
    public var siteID: String?
    public var operationID: String?
    public var status: Int = 0
    /// A short machine word for how the request ended: "forwarded", "rejected", "rate_limited",
    /// "upstream_timeout", "upstream_error", "idempotent_replay", "client_gone".
    public var outcome: String = ""
    public var upstreamStatus: Int?
    /// Upstream attempts made: 0 when none was (rejected, refused by the circuit or the
    /// in-flight limit, replayed), more than 1 when retried.
    public var attempts: Int = 0
    /// For field problems: their codes, so logs show why without showing values.
    public var problemCodes: [String] = []
    /// The rate-limit policies that refused the request, comma-separated.
    public var policy: String?
    /// Headers justgate adds to the answer it relays (the `RateLimit` fields of an admitted request).
    var addedHeaders: [HTTPHeader] = []
    /// The `Idempotency-Key` of a `profile.create` request, for the idempotency step.
    var idempotencyKey: String?
    public var receivedAtNanos: UInt64
}
