/// Incremental, allocation-light parser for the request head, driven by an event loop's read buffer.
///
/// The server calls `parse` after every read with the whole buffer of the current request. The parser remembers how
/// far it has scanned and which lines it has already validated, so a client that trickles one byte per packet costs
/// O(n) in total, and limits are enforced while the head is still arriving rather than after it is complete.
/// Nothing is turned into a `String` until the empty line ending the head has been seen and every check passed.
public struct HTTPRequestHeadParser: Sendable {
    /// RFC 9112 §2.2 lets a server skip empty lines before a request line; more than this is not a real client.
    static let maxLeadingEmptyLines = 2

    private let limits: HTTPLimits
    /// Next byte to examine.
    private var position = 0
    /// Offset where the line being scanned begins.
    private var lineStart = 0
    private var leadingEmptyLines = 0
    private var requestLine: RequestLine?
    private var fields: [HeaderFieldLine] = []
    /// Bytes of complete header lines so far, CRLFs included.
    private var headerBytes = 0

    /// Creates a parser that enforces `limits`.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Forgets all progress so the parser can start on a new request; `parse` does this itself after a success.
    public mutating func reset() {
        position = 0
        lineStart = 0
        leadingEmptyLines = 0
        requestLine = nil
        fields.removeAll(keepingCapacity: true)
        headerBytes = 0
    }

    /// Call again each time more bytes arrive (buffer always starts at the request's first byte).
    ///
    /// Returns nil while the head is incomplete and no limit is exceeded yet. On success returns the head and how
    /// many bytes it took (body or a pipelined request follow), and the parser is reset for the next request.
    /// Throws the status to answer when the head is malformed or too large; the connection must then be closed.
    public mutating func parse(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) -> (head: HTTPRequestHead, consumed: Int)? {
        let end = buffer.count
        while position < end {
            // Ordinary bytes only move the scan on: skip to the next CR, LF or NUL.
            position = LineBreakScan.firstBreakOrNUL(in: buffer, from: position, to: end)
            guard position < end else { break }
            let byte = buffer[position]
            if byte == ASCII.cr {
                guard position + 1 < end else { break }  // wait for the byte after CR
                guard buffer[position + 1] == ASCII.lf else {
                    throw .badRequest("A CR in the request head must be followed by LF.")
                }
                let line = lineStart..<position
                position += 2
                lineStart = position
                if let head = try completeLine(buffer, line) {
                    let consumed = position
                    reset()
                    return (head, consumed)
                }
            } else if byte == ASCII.lf {
                throw .badRequest("Lines in the request head must end with CRLF, not a bare LF.")
            } else {
                throw .badRequest("The request head contains a NUL byte.")
            }
        }
        try checkPartialLine()
        return nil
    }

    /// Rejects an unfinished line that is already over its limit, so an endless line is refused early.
    private func checkPartialLine() throws(HTTPParseError) {
        let length = position - lineStart
        if requestLine == nil {
            if length > limits.maxRequestLineBytes { throw Self.requestLineTooLong(limits) }
        } else {
            if length > limits.maxHeaderLineBytes { throw Self.headerLineTooLong(limits) }
            if headerBytes + length > limits.maxHeaderBytes { throw Self.headersTooLarge(limits) }
        }
    }

    /// Validates a finished line; returns the head once the empty line closing the header section arrives.
    private mutating func completeLine(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError) -> HTTPRequestHead? {
        guard let parsedRequestLine = requestLine else {
            if line.isEmpty {
                leadingEmptyLines += 1
                if leadingEmptyLines > Self.maxLeadingEmptyLines {
                    throw .badRequest("The request starts with too many empty lines.")
                }
                return nil
            }
            if line.count > limits.maxRequestLineBytes { throw Self.requestLineTooLong(limits) }
            requestLine = try RequestLine.parse(buffer, line)
            return nil
        }
        if line.isEmpty {
            return try MessageFraming.buildHead(buffer, requestLine: parsedRequestLine, fields: fields, limits: limits)
        }
        if line.count > limits.maxHeaderLineBytes { throw Self.headerLineTooLong(limits) }
        headerBytes += line.count + 2
        if headerBytes > limits.maxHeaderBytes { throw Self.headersTooLarge(limits) }
        if fields.count >= limits.maxHeaderCount {
            throw HTTPParseError(status: 431, reason: "The request has more than \(limits.maxHeaderCount) header fields; send fewer.")
        }
        fields.append(try HeaderFieldLine.parse(buffer, line))
        return nil
    }

    private static func requestLineTooLong(_ limits: HTTPLimits) -> HTTPParseError {
        HTTPParseError(status: 414, reason: "The request line is longer than \(limits.maxRequestLineBytes) bytes; shorten the URL or send the data in the body.")
    }

    private static func headerLineTooLong(_ limits: HTTPLimits) -> HTTPParseError {
        HTTPParseError(status: 431, reason: "A header line is longer than \(limits.maxHeaderLineBytes) bytes; shorten it.")
    }

    private static func headersTooLarge(_ limits: HTTPLimits) -> HTTPParseError {
        HTTPParseError(status: 431, reason: "The request headers are larger than \(limits.maxHeaderBytes) bytes in total; send fewer or shorter headers.")
    }
}
