import CCurl

/// One call to make upstream, already in canonical form: the pipeline decided method, URL,
/// headers (with the injected token) and body; the client only moves bytes.
///
/// The URL travels as the configured base and the operation's target, not joined: the client keeps
/// the base parsed (a `CURLU` per handle) and hands libcurl only the path and query of each call,
/// so libcurl does not parse and normalise the whole URL again for every request.
public struct UpstreamRequest: Sendable {
    public var method: String
    /// `scheme://authority[/base-path]` without a trailing slash (`upstream.url` as checked by the config).
    public var baseURL: String
    /// What follows the base: `/path` or `/path?query`, already percent-encoded.
    public var target: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// This attempt's time limit in milliseconds (what is left of the request's deadline);
    /// `nil` uses the client's `timeoutMs`. The connect limit never exceeds it.
    public var timeoutMs: Int?

    public init(method: String, baseURL: String, target: String, headers: [(name: String, value: String)], body: [UInt8],
                timeoutMs: Int? = nil) {
        self.method = method
        self.baseURL = baseURL
        self.target = target
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }

    /// A call to a whole URL, split after its authority into base and target.
    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], timeoutMs: Int? = nil) {
        var base = Substring(url)
        var target = Substring("")
        if let separator = url.firstRange(of: "://"), let slash = url[separator.upperBound...].firstIndex(of: "/") {
            base = url[..<slash]
            target = url[slash...]
        }
        self.init(method: method, baseURL: String(base), target: String(target), headers: headers, body: body,
                  timeoutMs: timeoutMs)
    }

    /// The whole URL, as libcurl requests it.
    public var url: String { baseURL + target }
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
    /// Which HTTP versions libcurl may speak (`upstream.http_version`).
    public var httpVersion: UpstreamHTTPVersionChoice

    public init(connectTimeoutMs: Int = 2000, timeoutMs: Int = 10_000, maxResponseBytes: Int = 1 << 20,
                caFile: String? = nil, maxIdleConnections: Int = 512, httpVersion: UpstreamHTTPVersionChoice = .auto) {
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
        self.maxIdleConnections = maxIdleConnections
        self.httpVersion = httpVersion
    }
}

/// `upstream.http_version` as the client applies it (the config's `UpstreamHTTPVersion`, which this module
/// does not import).
public enum UpstreamHTTPVersionChoice: Sendable, Equatable {
    /// HTTP/2 offered over TLS by ALPN, HTTP/1.1 over http:// (CURL_HTTP_VERSION_2TLS).
    case auto
    /// HTTP/1.1 only (CURL_HTTP_VERSION_1_1).
    case http1_1
    /// HTTP/2 over TLS by ALPN and over http:// by prior knowledge (CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE).
    case http2

    /// The CURLOPT_HTTP_VERSION value.
    var curlOption: Int {
        switch self {
        case .auto: Int(CURL_HTTP_VERSION_2TLS)
        case .http1_1: Int(CURL_HTTP_VERSION_1_1)
        case .http2: Int(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
        }
    }

    /// Whether calls of `request` may share one connection (HTTP/2): what CURLOPT_PIPEWAIT and the
    /// connection budget (`HostConnectionBudget`) are for.
    func mayMultiplex(_ request: UpstreamRequest) -> Bool {
        switch self {
        case .auto: request.isOverTLS
        case .http1_1: false
        case .http2: true
        }
    }
}
