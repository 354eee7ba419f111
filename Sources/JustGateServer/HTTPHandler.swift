import JustGateHTTP

/// A complete request as the handler sees it: head, decoded body and where it came from. What the handler's
/// screen carried for it is handed to `HTTPHandler.handle` beside it, so this stays `Sendable`.
public struct ServerRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The client's numeric address, for logs and the audit record: the peer's, or, when the peer is one of
    /// `ServerConfiguration.trustedProxies`, the client it forwarded for (`ClientAddress`).
    public var remoteAddress: String
    /// Monotonic nanoseconds when the request's first byte was read, for latency accounting.
    public var receivedAtNanos: UInt64
}

/// What `HTTPHandler.screen` decided from a request's head.
public enum HeadScreening {
    /// Answer now: the body is neither invited nor read.
    case answer(HTTPResponse)
    /// Read the body and call `handle`; `carrying` comes back as its `screened` argument (the handler's
    /// per-request state, so what the screen learned is not learned again).
    case proceed(carrying: AnyObject?)
}

/// Answers requests on one event loop.
///
/// One handler is made per loop (see `HTTPServer`'s factory) and is only ever called on that
/// loop's thread, so it may keep loop-local state (a curl multi handle, caches) without locks.
/// It must call `responder.respond` exactly once per request, now or later, on the same thread.
public protocol HTTPHandler: AnyObject {
    /// `screened` is what `screen` returned with `.proceed` for this request, handed back unchanged so the
    /// handler never recomputes what the head told it (loop-confined, like the handler); nil for a request
    /// without a body (never screened).
    func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder)

    /// Looks at a request's head before its body is invited (`100 Continue`) or read, and answers
    /// it now when the head alone decides it (no key, no such path): such a request then costs no
    /// body buffer. The server writes the answer and, when a body was announced, closes the
    /// connection without reading it. `.proceed` lets the request go on to `handle` with its body.
    /// Called only for requests that announce a body, on the loop's thread, like `handle`.
    /// `remoteAddress` is the client, as in `ServerRequest`.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HeadScreening

    /// Told about every answer the server made by itself (400/408/413/414/431 from `errorResponse`, the 503
    /// at `ServerConfiguration.maxConnections`) once it is queued, on the loop's thread, so the application's
    /// one exit (log line, audit record, metrics) sees these requests too. No default: every handler says
    /// whether it records them.
    func serverAnswered(_ answer: ServerAnswer)

    /// The server began to drain (a stop): work the handler starts by itself (outbox delivery) stops
    /// starting; what is under way may finish within the drain.
    func drainBegan()

    /// Work of the handler's own still under way: the drain waits for it as for a request, up to its deadline.
    var isBusy: Bool { get }

    /// The loop ends (drained, or the drain's deadline passed): the handler's own work under way is given up
    /// cleanly (handed back, leases released) while the loop's connections still stand.
    func loopEnding()
}

extension HTTPHandler {
    public func drainBegan() {}
    public var isBusy: Bool { false }
    public func loopEnding() {}

    /// By default every head goes on to `handle`.
    public func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HeadScreening {
        .proceed(carrying: nil)
    }
}

/// The way back to the connection a request came from.
///
/// It holds the connection weakly and remembers which request it belongs to, so a late answer
/// for a connection that has since closed (or moved on) is dropped instead of being written to
/// the wrong request.
public struct Responder {
    weak var connection: Connection?
    let generation: UInt64

    /// Sends the response; later calls for the same request are ignored.
    public func respond(_ response: HTTPResponse) {
        guard let connection, connection.generation == generation else { return }
        connection.complete(response)
    }

    /// Whether the client is still there waiting for this answer.
    public var isActive: Bool {
        guard let connection else { return false }
        return connection.generation == generation && connection.isAwaitingResponse
    }

    /// Registers work to undo if the client goes away before the answer (an upstream call to cancel).
    public func onCancel(_ handler: @escaping () -> Void) {
        guard let connection, connection.generation == generation, connection.isAwaitingResponse else { return }
        connection.cancelHandler = handler
    }
}
