import JustGateHTTP
import JustGateReactor

/// Everything one listening server needs to know, fixed at start.
public struct ServerConfiguration: Sendable {
    /// Where to listen; port 0 picks a free port (tests read it back from `HTTPServer.start()`).
    public var address: SocketAddress
    /// Event loops (threads); 0 means one per core.
    public var workers: Int
    /// Connections held at once across all loops; beyond it new ones get a quick 503 and are closed.
    public var maxConnections: Int
    /// A request head must be complete this long after its first byte (slowloris).
    public var headerTimeoutMs: Int
    /// A request body must be complete this long after its head.
    public var bodyTimeoutMs: Int
    /// A keep-alive connection with nothing to do is closed after this long; also bounds a stalled write.
    public var idleTimeoutMs: Int
    /// How long `stop()` lets requests in flight finish before closing their connections.
    public var drainTimeoutMs: Int
    public var limits: HTTPLimits
    /// Whether to bind even when another socket already listens on `address`. Listeners use
    /// `SO_REUSEPORT`, which would let a second process (a second justgate started by mistake) take
    /// a share of the connections, site keys included; so by default start-up refuses a busy address,
    /// and only a deliberate hand-over (`justgate serve --replace`) joins it.
    public var joinExistingListeners = false
    /// The loops' thread names are this and the loop's index (`jg-loop-0`), for `top -H` and `ps -L`; a
    /// process with several servers (gateway, admin, sandbox) can tell their loops apart by it. Names are
    /// cut to the kernel's 15 bytes.
    public var threadNamePrefix = "jg-loop"
    /// Connections one peer address may hold on a loop; nil for no cap. A peer at its cap that connects again
    /// loses its own oldest idle connection (see `evictIdleWhenFull`), or is refused with 503 when all of
    /// its connections are busy. For the admin listener only: sites behind one NAT share an address.
    public var maxConnectionsPerPeer: Int?
    /// How long a new connection may stay silent before its first byte; nil uses `idleTimeoutMs`. Closed
    /// without an answer when it passes: nothing was asked.
    public var firstByteTimeoutMs: Int?
    /// At `maxConnections`, close the loop's oldest connection with no request in progress (idle, or its
    /// head not yet complete) to admit the new one, instead of refusing the new one. So silent or slow
    /// connections cannot keep a health probe out; a connection whose request is being read or answered
    /// is never evicted.
    public var evictIdleWhenFull = false
    /// Peers whose `X-Forwarded-For` names the client (`ClientAddress`); empty: every peer is the client.
    /// Resolved once per request, right after its head is parsed, so every observer of the request (the
    /// handler, the server's own error answers) sees the same client.
    public var trustedProxies: [IPNetwork] = []
    /// Renders errors the server produces before a handler runs (parse errors, timeouts, overload),
    /// so the application decides their format (problem+json) in one place. Each such answer is then
    /// reported to the loop's handler (`HTTPHandler.serverAnswered`).
    public var errorResponse: @Sendable (_ status: Int, _ detail: String) -> HTTPResponse
    /// The loops' clock for timers and connection deadlines; tests pass a `ManualClock`'s to move time instead
    /// of sleeping. Request timestamps (`receivedAtNanos`) stay on the system clock: they are measured against it.
    public var clock: MonotonicClock = .system

    public init(
        address: SocketAddress,
        workers: Int = 0,
        maxConnections: Int = 16384,
        headerTimeoutMs: Int = 10_000,
        bodyTimeoutMs: Int = 10_000,
        idleTimeoutMs: Int = 60_000,
        drainTimeoutMs: Int = 10_000,
        limits: HTTPLimits = HTTPLimits(),
        errorResponse: @escaping @Sendable (Int, String) -> HTTPResponse = ServerConfiguration.plainError
    ) {
        self.address = address
        self.workers = workers
        self.maxConnections = maxConnections
        self.headerTimeoutMs = headerTimeoutMs
        self.bodyTimeoutMs = bodyTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.drainTimeoutMs = drainTimeoutMs
        self.limits = limits
        self.errorResponse = errorResponse
    }

    /// A text error for servers that have no opinion on error format (the sandbox).
    public static let plainError: @Sendable (Int, String) -> HTTPResponse = { status, detail in
        HTTPResponse(
            status: status,
            headers: [HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8")],
            body: Array((detail + "\n").utf8)
        )
    }
}
