/// One call to make upstream, already in canonical form: the pipeline decided method, URL,
/// headers (with the injected token) and body; the client only moves bytes.
public struct UpstreamRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// This attempt's time limit in milliseconds (what is left of the request's deadline);
    /// `nil` uses the client's `timeoutMs`. The connect limit never exceeds it.
    public var timeoutMs: Int?

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], timeoutMs: Int? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }
}

/// What the upstream answered, relayed to the site unchanged.
public struct UpstreamResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String?, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// Why a call produced no upstream answer. Messages come from libcurl's error text and name the
/// failure, never the request's headers, so they are safe to show and log.
///
/// The cases keep apart failures where the request provably never reached the upstream
/// (`unreachable`, `connectTimedOut`: safe to send again, even a POST) from those where it may
/// have (`connectionLost`, `timedOut`: only a read may be sent again).
public enum UpstreamFailure: Error, Sendable, Equatable {
    /// Could not connect, resolve, or complete TLS: nothing was sent. The site gets 502.
    /// `cause` says which (`connect_refused`, `dns_failed`, `tls_failed`).
    case unreachable(String, cause: UpstreamFailureReason)
    /// The time limit passed before one byte of the request was written: nothing was sent. 504.
    case connectTimedOut(String)
    /// The time limit passed after the request was (or may have been) sent; the site gets 504.
    case timedOut(String)
    /// The connection failed after the request was (or may have been) sent: reset, closed
    /// without an answer, a send or receive error. The site gets 502.
    /// `cause` says which (`connection_reset`, `empty_response`).
    case connectionLost(String, cause: UpstreamFailureReason)
    /// The circuit breaker is open: no call was made. The site gets 503 with `Retry-After`.
    case circuitOpen(retryAfterMs: Int)
    /// `upstream.max_in_flight` calls are already waiting: no call was made. The site gets 503.
    case overloaded(limit: Int)
    /// The answer was larger than `maxResponseBytes`; the site gets 502.
    case responseTooLarge(limit: Int)
    /// The site went away and the call was abandoned.
    case cancelled
    /// Anything else libcurl reported; the site gets 502. `cause` is `protocol_error`, `incomplete_response`,
    /// `internal_error` (the call could not be set up) or `other`.
    case failed(String, cause: UpstreamFailureReason = .other)
}

extension UpstreamFailure {
    /// The machine word for this failure (see `UpstreamFailureReason`).
    public var reason: UpstreamFailureReason {
        switch self {
        case .unreachable(_, let cause), .connectionLost(_, let cause), .failed(_, let cause): cause
        case .connectTimedOut: .timeoutBeforeSending
        case .timedOut: .timeoutAfterSending
        case .circuitOpen: .circuitOpen
        case .overloaded: .overMaxInFlight
        case .responseTooLarge: .responseTooLarge
        case .cancelled: .clientGone
        }
    }
}

/// Fixed settings of an upstream client.
public struct UpstreamClientConfiguration: Sendable {
    public var connectTimeoutMs: Int
    public var timeoutMs: Int
    public var maxResponseBytes: Int
    /// A PEM bundle of extra trust anchors for a private upstream CA; verification is never turned off.
    public var caFile: String?
    /// Idle upstream connections kept per loop for reuse.
    public var maxIdleConnections: Int

    public init(connectTimeoutMs: Int = 2000, timeoutMs: Int = 10_000, maxResponseBytes: Int = 1 << 20,
                caFile: String? = nil, maxIdleConnections: Int = 512) {
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
        self.maxIdleConnections = maxIdleConnections
    }
}
