/// A complete response as the pipeline produces it; the body is always fully known, which is what lets the writer
/// send Content-Length and the whole response in one write.
public struct HTTPResponse: Sendable {
    /// Status code, 100–599.
    public var status: Int
    /// Header fields to send. Content-Length, Transfer-Encoding and Connection are managed by the writer and ignored.
    public var headers: [HTTPHeader]
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
