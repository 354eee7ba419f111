/// The request line split into its three parts (RFC 9112 §3), as offsets into the read buffer so that strings are
/// made only once the whole head has been accepted.
struct RequestLine {
    var method: Range<Int>
    var target: Range<Int>
    /// Bytes of the target before its first '?' (all of it when there is none), found while validating it.
    var pathLength: Int
    var versionMinor: Int

    /// Parses `method SP request-target SP HTTP-version` with exactly one space between parts.
    ///
    /// Tolerance here is what enables smuggling through intermediaries that split differently, so anything other
    /// than the exact grammar is rejected: extra or missing spaces, tabs, lowercase "http", multi-digit versions.
    static func parse(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError) -> RequestLine {
        var index = line.lowerBound
        while index < line.upperBound, ASCII.isTokenChar(buffer[index]) { index += 1 }
        let method = line.lowerBound..<index
        guard !method.isEmpty, index < line.upperBound, buffer[index] == ASCII.space else {
            throw .badRequest("The request line must be 'METHOD /path HTTP/1.1' with a token method and single spaces.")
        }
        index += 1
        let targetStart = index
        while index < line.upperBound, buffer[index] != ASCII.space { index += 1 }
        let target = targetStart..<index
        guard !target.isEmpty, index < line.upperBound else {
            throw .badRequest("The request line must be 'METHOD /path HTTP/1.1' with single spaces between the parts.")
        }
        let versionMinor = try parseVersion(buffer, index + 1..<line.upperBound)
        let pathLength = try validateOriginForm(buffer, target)
        return RequestLine(method: method, target: target, pathLength: pathLength, versionMinor: versionMinor)
    }

    /// `HTTP-version = "HTTP/" DIGIT "." DIGIT`; only major version 1 is served.
    private static func parseVersion(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) -> Int {
        let malformed = HTTPParseError.badRequest("The HTTP version must be written exactly 'HTTP/1.1' (or 'HTTP/1.0').")
        guard range.count == 8 else { throw malformed }
        let base = range.lowerBound
        let prefix: StaticString = "HTTP/"
        for offset in 0..<5 where buffer[base + offset] != prefix.utf8Start[offset] { throw malformed }
        let major = buffer[base + 5], dot = buffer[base + 6], minor = buffer[base + 7]
        guard (0x30...0x39).contains(major), dot == 0x2E, (0x30...0x39).contains(minor) else { throw malformed }
        guard major == 0x31 else {
            throw HTTPParseError(status: 505, reason: "Only HTTP/1.x is served here; send the request as HTTP/1.1.")
        }
        return minor == 0x30 ? 0 : 1
    }

    /// Only origin-form ("/path?query") is accepted: this gateway is not a proxy, so absolute-form, authority-form
    /// (CONNECT) and asterisk-form (OPTIONS *) have no meaning here and are classic confusion vectors.
    ///
    /// Bytes must be visible ASCII without '#' (fragments are never sent). Percent escapes are not checked here;
    /// `URLEncodedForm.percentDecodePath` rejects invalid ones when the path or query is actually decoded.
    /// Returns the length of the path: the bytes before the first '?'.
    private static func validateOriginForm(_ buffer: UnsafeRawBufferPointer, _ target: Range<Int>) throws(HTTPParseError) -> Int {
        guard buffer[target.lowerBound] == ASCII.slash else {
            throw .badRequest("The request target must be a path starting with '/'; proxy and CONNECT forms are not served.")
        }
        var pathEnd = target.upperBound
        for index in target {
            let byte = buffer[index]
            guard byte > 0x20, byte < 0x7F, byte != 0x23 else {
                throw .badRequest("The request target may only contain visible ASCII; percent-encode other bytes and drop any '#fragment'.")
            }
            if byte == ASCII.question, pathEnd == target.upperBound { pathEnd = index }
        }
        return pathEnd - target.lowerBound
    }
}
