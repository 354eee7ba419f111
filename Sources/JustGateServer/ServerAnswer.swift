import JustGateHTTP

/// A request the server answered by itself, before any handler saw it: malformed HTTP (400), a slow head or
/// body (408), 413, 414, 431, or the 503 at the connection limit. Handed to
/// the loop's handler (`HTTPHandler.serverAnswered`) so these requests are recorded like every other one.
public struct ServerAnswer: Sendable {
    /// What was sent (its `X-Request-Id` header, when the application's `errorResponse` sets one, names it).
    public var response: HTTPResponse
    /// The method and path, when the request head was read before the error.
    public var method: String?
    public var path: String?
    /// The client (`ServerRequest.remoteAddress`) when the head was read, otherwise the peer: without a head
    /// there is no `X-Forwarded-For` to believe.
    public var remoteAddress: String
    /// When the request's first byte arrived (monotonic), or when the connection was refused.
    public var receivedAtNanos: UInt64
}
