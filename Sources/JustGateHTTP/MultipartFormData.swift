/// Bounds on a multipart/form-data body, beyond the overall body limit, so one request cannot make the gateway
/// build thousands of fields or one huge field.
public struct MultipartLimits: Sendable {
    /// Most parts (fields) accepted; more answers 413.
    public var maxParts: Int
    /// Largest part, its header lines and value together; larger answers 413.
    public var maxPartBytes: Int

    /// Creates limits; the defaults are far above what a profile form needs.
    public init(maxParts: Int = 64, maxPartBytes: Int = 65536) {
        self.maxParts = maxParts
        self.maxPartBytes = maxPartBytes
    }
}

/// `multipart/form-data` bodies (RFC 7578, RFC 2046 §5.1) as sent by curl --form, PHP's CURLOPT_POSTFIELDS arrays,
/// Python requests and Go's mime/multipart, turned into plain text fields.
///
/// The gateway only forwards text fields, so file parts are refused (422) instead of being buffered. Lines may end
/// with CRLF or a bare LF (as Go's reader tolerates); the preamble and epilogue are ignored.
public enum MultipartFormData {
    /// Decodes every part into `(name, value)` in body order, duplicates kept.
    ///
    /// Throws 400 for a malformed body (bad boundary, missing closing delimiter, missing or bad
    /// Content-Disposition, non-UTF-8 value), 413 when `limits` are exceeded, 422 for file or non-text parts.
    public static func decode(
        _ body: UnsafeRawBufferPointer, boundary: String, limits: MultipartLimits = MultipartLimits()
    ) throws(FormDecodingError) -> [(name: String, value: String)] {
        guard isValidBoundary(boundary) else {
            throw .malformed("The multipart boundary must be 1 to 70 letters, digits or '()+_,-./:=? characters.")
        }
        let delimiter: [UInt8] = [ASCII.hyphen, ASCII.hyphen] + Array(boundary.utf8)
        return try decodeParts(body, delimiter: delimiter, limits: limits)
    }

    private static func decodeParts(
        _ body: UnsafeRawBufferPointer, delimiter: [UInt8], limits: MultipartLimits
    ) throws(FormDecodingError) -> [(name: String, value: String)] {
        guard var delimiterStart = startsWith(body, at: 0, delimiter) ? 0 : findDelimiter(body, delimiter, from: 0) else {
            throw .malformed("The multipart body does not contain its boundary; check the boundary in Content-Type.")
        }
        var fields: [(name: String, value: String)] = []
        while true {
            var cursor = delimiterStart + delimiter.count
            if startsWith(body, at: cursor, [ASCII.hyphen, ASCII.hyphen]) {
                return fields  // close delimiter; the epilogue is ignored
            }
            while cursor < body.count, ASCII.isWhitespace(body[cursor]) { cursor += 1 }  // transport padding
            if cursor < body.count, body[cursor] == ASCII.cr { cursor += 1 }
            guard cursor < body.count, body[cursor] == ASCII.lf else {
                if cursor >= body.count { throw missingClose }
                throw .malformed("A multipart boundary line has unexpected characters after the boundary.")
            }
            cursor += 1
            guard let next = findDelimiter(body, delimiter, from: cursor) else { throw missingClose }
            var partEnd = next - 1  // the LF before the delimiter belongs to it
            if partEnd > cursor, body[partEnd - 1] == ASCII.cr { partEnd -= 1 }
            guard fields.count < limits.maxParts else {
                throw FormDecodingError(status: 413, message: "The form has more than \(limits.maxParts) fields; send fewer.")
            }
            guard partEnd - cursor <= limits.maxPartBytes else {
                throw FormDecodingError(status: 413, message: "A form field is larger than \(limits.maxPartBytes) bytes; send a shorter value.")
            }
            fields.append(try MultipartPart.decode(UnsafeRawBufferPointer(rebasing: body[cursor..<partEnd])))
            delimiterStart = next
        }
    }

    private static let missingClose = FormDecodingError.malformed(
        "The multipart body ends without its closing boundary ('--boundary--'); send the complete body.")

    /// Finds `LF delimiter` at or after `from` and returns the offset of the delimiter itself.
    private static func findDelimiter(_ body: UnsafeRawBufferPointer, _ delimiter: [UInt8], from: Int) -> Int? {
        var index = from
        let last = body.count - delimiter.count - 1
        while index <= last {
            if body[index] == ASCII.lf, startsWith(body, at: index + 1, delimiter) { return index + 1 }
            index += 1
        }
        return nil
    }

    private static func startsWith(_ body: UnsafeRawBufferPointer, at offset: Int, _ prefix: some Collection<UInt8>) -> Bool {
        guard offset + prefix.count <= body.count else { return false }
        var index = offset
        for byte in prefix {
            if body[index] != byte { return false }
            index += 1
        }
        return true
    }

    /// RFC 2046 §5.1.1: 1–70 `bchars`, not ending in a space.
    static func isValidBoundary(_ boundary: String) -> Bool {
        let bytes = boundary.utf8
        guard (1...70).contains(bytes.count), bytes.last != ASCII.space else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            case 0x27, 0x28, 0x29, 0x2B, 0x5F, 0x2C, 0x2D, 0x2E, 0x2F, 0x3A, 0x3D, 0x3F, 0x20: true  // '()+_,-./:=? SP
            default: false
            }
        }
    }
}
