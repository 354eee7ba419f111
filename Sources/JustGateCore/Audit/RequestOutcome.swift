/// How a request ended, in one word: the `outcome` of its log line, its audit record and the
/// `justgate_requests_total` metric. One closed list, so the pipeline can only write a word that
/// `justgate audit query --outcome` accepts, the README lists and the metric's cardinality allows
/// (`AuditFilter.outcomes` is this list). The raw values are the words on disk and on the wire: never
/// rename one, older audit logs carry them.
public enum RequestOutcome: String, CaseIterable, Sendable {
    /// The upstream answered (any HTTP status) and the answer was relayed.
    case forwarded
    /// justgate refused the request: a bad path, field, header or body, or an `Idempotency-Key` in use
    /// or reused for other fields; also a malformed request the server refused by itself.
    case rejectedInvalid = "rejected_invalid"
    /// No site key, an unknown or expired one (401).
    case rejectedAuth = "rejected_auth"
    /// A rate-limit policy refused it (429), or the limiter's store was down with `on_backend_error: deny` (503).
    case rateLimited = "rate_limited"
    /// The upstream failed, could not be reached, answered a non-HTTP status, or was not called (circuit open,
    /// too many calls in flight, or the shared `Idempotency-Key` store could not be asked).
    case upstreamError = "upstream_error"
    /// The upstream did not answer within the operation's deadline (504).
    case upstreamTimeout = "upstream_timeout"
    /// The upstream refused the gateway's own token (401 or 403, relayed): the operator must act.
    case upstreamAuthFailed = "upstream_auth_failed"
    /// A repeated `Idempotency-Key` got the first request's stored answer.
    case idempotentReplay = "idempotent_replay"
    /// The client left before its answer (status 499).
    case clientGone = "client_gone"
    /// The server refused it at `server.max_connections` (503).
    case rejectedOverload = "rejected_overload"
    /// The audit log could not be written, so the request was refused (503).
    case auditUnavailable = "audit_unavailable"
    /// The call was kept in the outbox for later delivery and answered 202 (`sites[].defer`, issue 25): the
    /// site asked (`Prefer: respond-async`), the upstream could not take it now, or earlier calls of its user wait.
    case deferred
    /// A site read the state of one of its deferred calls (`GET /justgate/v1/deliveries/<id>`, 200).
    case deliveryStatus = "delivery_status"
}
