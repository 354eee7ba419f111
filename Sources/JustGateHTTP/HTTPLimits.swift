/// Bounds on what one request may make the server buffer and scan.
///
/// Every limit exists because an unbounded peer could otherwise make the gateway hold or scan arbitrary amounts of
/// memory before it can decide anything. Each one maps to the status RFC 9110 names for it, so a client that hits a
/// limit learns which one.
public struct HTTPLimits: Sendable {
    /// Longest request line (method, target and version, without CRLF); longer answers 414 URI Too Long.
    public var maxRequestLineBytes: Int
    /// Longest single header field line (without CRLF); longer answers 431.
    public var maxHeaderLineBytes: Int
    /// All header field lines together, CRLFs included; more answers 431.
    public var maxHeaderBytes: Int
    /// Number of header field lines; more answers 431.
    public var maxHeaderCount: Int
    /// Largest request body; a larger Content-Length (or chunked total) answers 413 before the body is read.
    public var maxBodyBytes: Int

    /// Creates limits; the defaults suit a JSON/form API gateway and are far above what its clients send.
    public init(
        maxRequestLineBytes: Int = 8192,
        maxHeaderLineBytes: Int = 8192,
        maxHeaderBytes: Int = 32768,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1_048_576
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderLineBytes = maxHeaderLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
