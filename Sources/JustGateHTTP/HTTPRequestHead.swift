/// How the length of a request body is determined (RFC 9112 §6.3), decided once by the parser so that the server
/// never has to look at Content-Length or Transfer-Encoding itself and cannot disagree with the parser about it.
public enum BodyFraming: Sendable, Equatable {
    /// No body: neither Content-Length nor Transfer-Encoding was sent.
    case none
    /// Exactly this many body bytes follow the head (already checked against `HTTPLimits.maxBodyBytes`).
    case contentLength(Int)
    /// The body follows in chunked coding; feed it to `ChunkedBodyDecoder`.
    case chunked
}

/// A validated request head: everything the pipeline needs to route, authorise and read the body.
///
/// Only heads that passed every RFC 9112 check are ever built, so code above the wire layer can trust `framing`,
/// `keepAlive` and `target` without re-checking them.
public struct HTTPRequestHead: Sendable {
    /// The method token exactly as sent (methods are case-sensitive).
    public var method: String
    /// The origin-form target exactly as sent, e.g. "/api/x/?juid=1".
    public var target: String {
        didSet { pathEnd = Self.pathEnd(of: target) }
    }
    /// Where `path` ends in `target`: at the first '?', or at the end. Found once (the parser already knows it),
    /// because `path` and `query` are read several times per request.
    private var pathEnd: String.Index
    /// The minor HTTP version: 0 or 1. Higher 1.x minors are answered as HTTP/1.1 (RFC 9110 §2.5).
    public var versionMinor: Int
    /// Header fields in the order received.
    public var headers: [HTTPHeader]
    /// Whether the connection may serve another request after this one.
    public var keepAlive: Bool
    /// How to read the body.
    public var framing: BodyFraming
    /// Whether the client waits for "100 Continue" before sending the body (HTTP/1.1 only).
    public var expectsContinue: Bool

    /// Creates a head; the parser is the normal source, this exists for tests and synthetic requests.
    public init(
        method: String, target: String, versionMinor: Int, headers: [HTTPHeader],
        keepAlive: Bool, framing: BodyFraming, expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.pathEnd = Self.pathEnd(of: target)
        self.versionMinor = versionMinor
        self.headers = headers
        self.keepAlive = keepAlive
        self.framing = framing
        self.expectsContinue = expectsContinue
    }

    /// The parser's head, whose request line told it where the path ends (`pathLength` UTF-8 bytes of `target`).
    init(method: String, target: String, pathLength: Int, versionMinor: Int, headers: [HTTPHeader],
         keepAlive: Bool, framing: BodyFraming, expectsContinue: Bool) {
        self.method = method
        self.target = target
        self.pathEnd = target.utf8.index(target.utf8.startIndex, offsetBy: pathLength)
        self.versionMinor = versionMinor
        self.headers = headers
        self.keepAlive = keepAlive
        self.framing = framing
        self.expectsContinue = expectsContinue
    }

    /// The target before '?', still percent-encoded, so routing can match it without allocating.
    public var path: Substring {
        target[..<pathEnd]
    }

    /// The raw text after the first '?', or nil when the target has no '?'.
    public var query: String? {
        guard pathEnd < target.endIndex else { return nil }
        return String(target[target.utf8.index(after: pathEnd)...])
    }

    private static func pathEnd(of target: String) -> String.Index {
        target.utf8.firstIndex(of: ASCII.question) ?? target.endIndex
    }

    /// The first value of header `name` (case-insensitive).
    public func value(for name: String) -> String? {
        headers.first(named: name)
    }

    /// Every value of header `name` (case-insensitive), in the order received.
    public func values(for name: String) -> [String] {
        headers.all(named: name)
    }
}
