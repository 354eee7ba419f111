/// Turns a syntactically valid head into an `HTTPRequestHead`, deciding body framing, persistence and Host rules
/// (RFC 9112 §6.3, §9.3; RFC 9110 §7.2) from the raw bytes before any string is made.
///
/// This is where request smuggling is stopped: every ambiguous combination of Content-Length and
/// Transfer-Encoding is refused rather than resolved, because a proxy in front may have resolved it differently.
struct MessageFraming {
    private var contentLength: Int?
    private var transferCodings: [Range<Int>] = []
    private var sawTransferEncoding = false
    private var hostCount = 0
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectContinue = false

    static func buildHead(
        _ buffer: UnsafeRawBufferPointer, requestLine: RequestLine, fields: [HeaderFieldLine], limits: HTTPLimits
    ) throws(HTTPParseError) -> HTTPRequestHead {
        var framing = MessageFraming()
        var headers: [HTTPHeader] = []
        headers.reserveCapacity(fields.count)
        for field in fields {
            try framing.inspect(buffer, field)
            headers.append(HTTPHeader(name: string(buffer, field.name), value: string(buffer, field.value)))
        }
        let minor = requestLine.versionMinor
        let body = try framing.decideFraming(buffer, versionMinor: minor, maxBodyBytes: limits.maxBodyBytes)
        if minor == 1, framing.hostCount != 1 {
            throw .badRequest("An HTTP/1.1 request must carry exactly one Host header.")
        }
        if framing.hostCount > 1 {
            throw .badRequest("A request must not carry more than one Host header.")
        }
        let keepAlive = minor == 1 ? !framing.connectionClose : framing.connectionKeepAlive && !framing.connectionClose
        return HTTPRequestHead(
            method: string(buffer, requestLine.method),
            target: string(buffer, requestLine.target),
            pathLength: requestLine.pathLength,
            versionMinor: minor,
            headers: headers,
            keepAlive: keepAlive,
            framing: body,
            // RFC 9110 §10.1.1: a server must ignore 100-continue from an HTTP/1.0 client.
            expectsContinue: minor == 1 && framing.expectContinue
        )
    }

    private static func string(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    private mutating func inspect(_ buffer: UnsafeRawBufferPointer, _ field: HeaderFieldLine) throws(HTTPParseError) {
        let name = buffer[field.name]
        if ASCII.caseInsensitiveEquals(name, lowercase: "content-length") {
            try recordContentLength(buffer, field.value)
        } else if ASCII.caseInsensitiveEquals(name, lowercase: "transfer-encoding") {
            sawTransferEncoding = true
            Self.forEachListElement(buffer, field.value) { transferCodings.append($0) }
        } else if ASCII.caseInsensitiveEquals(name, lowercase: "host") {
            hostCount += 1
        } else if ASCII.caseInsensitiveEquals(name, lowercase: "connection") {
            Self.forEachListElement(buffer, field.value) { element in
                let option = buffer[element]
                if ASCII.caseInsensitiveEquals(option, lowercase: "close") { connectionClose = true }
                if ASCII.caseInsensitiveEquals(option, lowercase: "keep-alive") { connectionKeepAlive = true }
            }
        } else if ASCII.caseInsensitiveEquals(name, lowercase: "expect") {
            if ASCII.caseInsensitiveEquals(buffer[field.value], lowercase: "100-continue") { expectContinue = true }
        }
    }

    /// Content-Length must be plain digits. Identical repeated lines are accepted (RFC 9112 §6.3 allows it);
    /// differing ones, or a comma list inside one line, are refused.
    private mutating func recordContentLength(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) {
        let invalid = HTTPParseError.badRequest("Content-Length must be a single decimal number of bytes.")
        guard !range.isEmpty else { throw invalid }
        var value = 0
        for index in range {
            let byte = buffer[index]
            guard byte >= 0x30, byte <= 0x39 else { throw invalid }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(Int(byte - 0x30))
            guard !overflowA, !overflowB else { throw invalid }
            value = sum
        }
        if let previous = contentLength, previous != value {
            throw .badRequest("The request carries several different Content-Length values; send exactly one.")
        }
        contentLength = value
    }

    private func decideFraming(_ buffer: UnsafeRawBufferPointer, versionMinor: Int, maxBodyBytes: Int) throws(HTTPParseError) -> BodyFraming {
        if sawTransferEncoding {
            if contentLength != nil {
                throw .badRequest("Send either Content-Length or Transfer-Encoding, never both.")
            }
            if versionMinor == 0 {
                throw .badRequest("HTTP/1.0 requests cannot use Transfer-Encoding; send Content-Length instead.")
            }
            var chunkedCount = 0
            for coding in transferCodings where ASCII.caseInsensitiveEquals(buffer[coding], lowercase: "chunked") {
                chunkedCount += 1
            }
            guard chunkedCount == 1, let last = transferCodings.last,
                ASCII.caseInsensitiveEquals(buffer[last], lowercase: "chunked")
            else {
                throw .badRequest("Transfer-Encoding must end with a single 'chunked'.")
            }
            guard transferCodings.count == 1 else {
                throw HTTPParseError(status: 501, reason: "Only 'Transfer-Encoding: chunked' is supported; send the body without other codings.")
            }
            return .chunked
        }
        guard let length = contentLength else { return .none }
        guard length <= maxBodyBytes else {
            throw HTTPParseError(status: 413, reason: "The request body is larger than the \(maxBodyBytes) bytes this server accepts.")
        }
        return .contentLength(length)
    }

    /// Calls `body` with each non-empty, OWS-trimmed element of a comma-separated list (RFC 9110 §5.6.1).
    private static func forEachListElement(
        _ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (Range<Int>) -> Void
    ) {
        var start = range.lowerBound
        while start <= range.upperBound {
            var end = start
            while end < range.upperBound, buffer[end] != ASCII.comma { end += 1 }
            var low = start, high = end
            while low < high, ASCII.isWhitespace(buffer[low]) { low += 1 }
            while high > low, ASCII.isWhitespace(buffer[high - 1]) { high -= 1 }
            if low < high { body(low..<high) }
            start = end + 1
        }
    }
}
