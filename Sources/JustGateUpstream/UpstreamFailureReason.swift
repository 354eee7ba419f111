/// Why a request got no usable upstream answer, as one machine word: the `reason` of its log line, its audit
/// record and the `reason` label of `justgate_upstream_failures_total`. Modelled on Envoy's response flags
/// (`UF`, `URX`, `UT`, `UO`, …), spelled as words an operator can grep and alert on.
///
/// A closed set defined here and nowhere else: a metric label takes only these values, so the number of series
/// stays bounded, and the audit record stores the raw value, a static string that costs nothing to copy.
/// The human sentence (libcurl's error text) stays in the answer's `detail`; this word is what machines read.
public enum UpstreamFailureReason: String, Sendable, CaseIterable {
    /// The upstream refused the connection (nothing listens): nothing was sent.
    case connectRefused = "connect_refused"
    /// The upstream's host name did not resolve: nothing was sent.
    case dnsFailed = "dns_failed"
    /// The TLS handshake failed or the upstream's certificate was not trusted: nothing was sent.
    case tlsFailed = "tls_failed"
    /// The deadline passed while resolving, connecting or in the handshake: nothing was sent.
    case timeoutBeforeSending = "timeout_before_sending"
    /// The deadline passed after the request was (or may have been) sent.
    case timeoutAfterSending = "timeout_after_sending"
    /// The connection failed after the request was (or may have been) sent: reset, a send or receive error.
    case connectionReset = "connection_reset"
    /// The upstream closed the connection without answering.
    case emptyResponse = "empty_response"
    /// The upstream's answer was cut short (fewer body bytes than it announced).
    case incompleteResponse = "incomplete_response"
    /// The upstream's answer was not HTTP libcurl could read (a broken head, an HTTP/2 protocol error).
    case protocolError = "protocol_error"
    /// The answer was larger than the gateway takes (`maxResponseBytes`).
    case responseTooLarge = "response_too_large"
    /// The upstream answered with a status that is not an HTTP status (outside 100...599).
    case badStatus = "bad_status"
    /// The upstream refused the gateway's own token (401 or 403): its answer is relayed, but the operator must act.
    case upstreamAuthFailed = "upstream_auth_failed"
    /// The circuit breaker is open: no call was made.
    case circuitOpen = "circuit_open"
    /// `upstream.max_in_flight` calls were already waiting: no call was made.
    case overMaxInFlight = "over_max_in_flight"
    /// The site's client went away and the call was abandoned.
    case clientGone = "client_gone"
    /// libcurl could not set the call up (no handle, a refused option): a fault of this gateway, not the upstream.
    case internalError = "internal_error"
    /// Any other error libcurl reported.
    case other
}
