import JustGateCore
import JustGateHTTP
import JustGateUpstream

/// What happened to one request, written in place in its `RequestContext` as the phases run. The request
/// log line, the audit record and the metrics are all written from it, once, at the exit (`RequestExit`).
public struct RequestRecord: Sendable {
    /// The id the answer carries (header and problem body). Written and forwarded only through
    /// `recordedRequestID`, which differs when this one is another site's credential.
    public var requestID: String
    /// The id written and forwarded instead of `requestID` when the site's own id may be echoed to it
    /// but equals another site's credential (see `RequestDriver.assignRequestIDs`); nil otherwise.
    var requestIDReplacement: String?
    /// The id the log line, the audit record and the upstream call carry: never a credential.
    public var recordedRequestID: String { requestIDReplacement ?? requestID }
    public var method: String
    public var path: String
    public var clientAddress: String
    public var siteID: String?
    public var operationID: String?
    public var status: Int = 0
    /// How the request ended; nil only until a stage decides it (every way a request ends sets it).
    public var outcome: RequestOutcome?
    /// Why the request got no usable upstream answer (or the upstream refused the gateway's token); `nil` for
    /// a request that never went upstream or got its answer. The `reason` of the log line and audit record.
    public var failureReason: UpstreamFailureReason?
    /// The fingerprint (`SiteKey.fingerprint`) of the site key the request presented, current or expired:
    /// an operator sees from it which key a site uses while it rotates. `nil` before a key matched.
    public var keyFingerprint: String?
    public var upstreamStatus: Int?
    /// Upstream attempts made: 0 when none was (rejected, refused by the circuit or the
    /// in-flight limit, replayed), more than 1 when retried.
    public var attempts: Int = 0
    /// For field problems: their codes, so logs show why without showing values.
    public var problemCodes: [String] = []
    /// The fields of `problemCodes`, in the same order (for metrics by field and code).
    public var problemFields: [String] = []
    /// Time spent waiting for the upstream, when a call was made.
    public var upstreamNanos: UInt64?
    /// The W3C trace id (32 hex digits) this request belongs to, continued or started here.
    public var traceID: String?
    /// The rate-limit policies that refused the request, comma-separated.
    public var policy: String?
    /// Headers justgate adds to the answer it relays (the `RateLimit` fields of an admitted request).
    var addedHeaders: [HTTPHeader] = []
    /// The upstream's answer contained the site's upstream token, which was replaced by `[redacted]`.
    public var upstreamTokenRedacted = false
    /// The `Idempotency-Key` of a request for an operation that takes one (`OperationSpec.takesIdempotencyKey`).
    var idempotencyKey: String?
    public var receivedAtNanos: UInt64
    /// What only the audit record needs: the allowlisted personal values (masked by the audit writer), allowed
    /// error entries.
    public var audit = RequestAuditFields()
}
