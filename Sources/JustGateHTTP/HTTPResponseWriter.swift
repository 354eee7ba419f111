/// Serialises responses to HTTP/1.1 bytes so the server can send each one with a single write.
///
/// The writer owns the framing headers (Content-Length and Connection) so that no handler can produce a response
/// whose framing disagrees with its body, and it neutralises CR/LF in header text so that a value echoed from a
/// request can never split the response.
public enum HTTPResponseWriter {
    /// "HTTP/1.1 100 Continue\r\n\r\n", sent before reading a body when the client asked for it.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends the status line, headers, Content-Length, "Connection: close" when !keepAlive, and the body, so the
    /// server can send the whole response in one write.
    ///
    /// - `extraHeaders` follow `response.headers` (e.g. a Date or request-id added by the server).
    /// - `omitBody` is for HEAD: Content-Length still states the body's size, the body is not written.
    /// - 1xx, 204 and 304 responses never get a body; 1xx and 204 get no Content-Length either (RFC 9110 §8.6).
    /// - Header names that are not tokens are dropped; control characters in values are replaced with spaces.
    public static func write(
        _ response: HTTPResponse, keepAlive: Bool, extraHeaders: [HTTPHeader] = [], omitBody: Bool = false,
        into out: inout [UInt8]
    ) {
        let status = response.status
        let forbidsBody = (100...199).contains(status) || status == 204 || status == 304
        let forbidsLength = (100...199).contains(status) || status == 204
        out.reserveCapacity(out.count + 128 + response.body.count + 32 * response.headers.count)
        appendText("HTTP/1.1 ", to: &out)
        DecimalDigits.append(status, to: &out)
        out.append(ASCII.space)
        appendText(reasonPhrase(status), to: &out)
        appendCRLF(to: &out)
        for header in response.headers { appendHeader(header, to: &out) }
        for header in extraHeaders { appendHeader(header, to: &out) }
        if !forbidsLength {
            appendText("Content-Length: ", to: &out)
            DecimalDigits.append(response.body.count, to: &out)
            appendCRLF(to: &out)
        }
        if !keepAlive {
            appendText("Connection: close\r\n", to: &out)
        }
        appendCRLF(to: &out)
        if !forbidsBody && !omitBody {
            out.append(contentsOf: response.body)
        }
    }

    /// Appends "name: value\r\n" over the strings' contiguous UTF-8: the name is checked and copied in one
    /// pass and a clean value (the usual case) is copied whole, instead of appending byte by byte.
    private static func appendHeader(_ header: HTTPHeader, to out: inout [UInt8]) {
        var name = header.name
        var value = header.value
        name.withUTF8 { name in
            guard !name.isEmpty, !isFramingHeader(name) else { return }
            for byte in name where !ASCII.isTokenChar(byte) { return }
            out.append(contentsOf: name)
            out.append(ASCII.colon)
            out.append(ASCII.space)
            value.withUTF8 { value in
                var clean = true
                for byte in value where !ASCII.isFieldValueByte(byte) {
                    clean = false
                    break
                }
                if clean {
                    out.append(contentsOf: value)
                } else {
                    for byte in value { out.append(ASCII.isFieldValueByte(byte) ? byte : ASCII.space) }
                }
            }
            appendCRLF(to: &out)
        }
    }

    /// Content-Length, Transfer-Encoding and Connection: the writer's own, never taken from a handler.
    private static func isFramingHeader(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch name.count {
        case 14: equalsIgnoringCase(name, "content-length")
        case 17: equalsIgnoringCase(name, "transfer-encoding")
        case 10: equalsIgnoringCase(name, "connection")
        default: false
        }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        ASCII.caseInsensitiveEquals(UnsafeRawBufferPointer(bytes)[...], lowercase: lowercase)
    }

    @inline(__always)
    private static func appendText(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    @inline(__always)
    private static func appendCRLF(to out: inout [UInt8]) {
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }
}
