/// One call to make upstream, already in canonical form: the pipeline decided method, URL,
/// headers (with the injected token) and body; the client only moves bytes.
public struct UpstreamRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
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
public enum UpstreamFailure: Error, Sendable, Equatable {
    /// Could not connect, resolve, or complete TLS; the site gets 502.
    case unreachable(String)
    /// Connect or total timeout passed; the site gets 504.
    case timedOut(String)
    /// The answer was larger than `maxResponseBytes`; the site gets 502.
    case responseTooLarge(limit: Int)
    /// The site went away and the call was abandoned.
    case cancelled
    /// Anything else libcurl reported; the site gets 502.
    case failed(String)
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
