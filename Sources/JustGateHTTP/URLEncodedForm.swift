/// `application/x-www-form-urlencoded` bodies and query strings, the format PHP sites send by default.
///
/// Decoding is strict (an invalid escape or non-UTF-8 text is a 400, not silently replaced) because the gateway
/// validates every field and must not forward something other than what the client meant.
public enum URLEncodedForm {
    /// Decodes `name=value&...`: '+' is a space, %XX escapes are decoded, empty pairs are skipped, a pair without
    /// '=' has an empty value, order and duplicates are kept.
    ///
    /// Decoding stops after `maxFields + 1` fields, so a caller can tell that its limit was passed without
    /// decoding (and allocating) the rest of a hostile body.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxFields: Int = .max) throws(FormDecodingError) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        // Room for every pair up front (one per '&', plus one, up to the limit): appending would otherwise
        // grow the array, copying it, as the second and fifth fields arrive.
        var pairs = 1
        for byte in bytes where byte == ASCII.ampersand { pairs += 1 }
        fields.reserveCapacity(min(pairs, maxFields == .max ? pairs : maxFields + 1))
        var start = 0
        while start <= bytes.count, fields.count <= maxFields {
            var end = start
            while end < bytes.count, bytes[end] != ASCII.ampersand { end += 1 }
            if end > start {
                fields.append(try decodePair(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
            }
            start = end + 1
        }
        return fields
    }

    /// Decodes a query string or form body held in a `String`, stopping like the byte form after `maxFields + 1`.
    public static func decode(_ string: String, maxFields: Int = .max) throws(FormDecodingError) -> [(name: String, value: String)] {
        var string = string
        // withUTF8 only rethrows untyped errors, so the typed error travels out in a Result.
        let result = string.withUTF8 { bytes in
            Result { () throws(FormDecodingError) in try decode(UnsafeRawBufferPointer(bytes), maxFields: maxFields) }
        }
        return try result.get()
    }

    /// Serialises fields the way browsers do (WHATWG URL standard), for forwarding forms upstream.
    public static func encode(_ fields: [(name: String, value: String)]) -> String {
        String(decoding: encodedBytes(fields), as: UTF8.self)
    }

    /// The same encoding as bytes, measured first and then written into one buffer of exactly that size,
    /// both passes over the strings' contiguous UTF-8: upstream bodies are built from this on every request.
    public static func encodedBytes(_ fields: [(name: String, value: String)]) -> [UInt8] {
        encodedBytes(count: fields.count) { fields[$0] }
    }

    /// The same for `count` fields read through `field(index)`, so a caller holding its fields in another
    /// shape (the validator's `NormalisedField`s) need not build an array of pairs first.
    public static func encodedBytes(count fieldCount: Int, field: (Int) -> (name: String, value: String)) -> [UInt8] {
        var length = max(fieldCount - 1, 0)  // the '&'s
        for index in 0..<fieldCount {
            let field = field(index)
            length += utf8(field.name, PercentEncoding.formEncodedLength) + 1 + utf8(field.value, PercentEncoding.formEncodedLength)
        }
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            var position = 0
            for index in 0..<fieldCount {
                let field = field(index)
                if index > 0 {
                    buffer[position] = ASCII.ampersand
                    position += 1
                }
                position = utf8(field.name) { PercentEncoding.encodeFormComponent($0, into: buffer, at: position) }
                buffer[position] = ASCII.equals
                position += 1
                position = utf8(field.value) { PercentEncoding.encodeFormComponent($0, into: buffer, at: position) }
            }
            count = position
        }
    }

    /// Runs `body` over a string's UTF-8 (contiguous for native strings, no copy).
    @inline(__always)
    private static func utf8<Result>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var text = text
        return text.withUTF8(body)
    }

    /// Decodes %XX escapes in a path (no '+' rule, since '+' is literal in paths); nil if an escape is invalid or
    /// the result is not UTF-8.
    ///
    /// Concrete `Substring` and `String` forms rather than one generic over `StringProtocol`: a generic called
    /// from another module runs unspecialised, looking up type metadata on every request. A path without '%'
    /// (nearly every one) is already valid text and is only copied.
    public static func percentDecodePath(_ path: Substring) -> String? {
        if !path.utf8.contains(ASCII.percent) { return String(path) }
        // `withUTF8`, not `utf8.withContiguousStorageIfAvailable`: on a `Substring` that runs unspecialised.
        var text = path
        return text.withUTF8 { bytes in PercentEncoding.decode(UnsafeRawBufferPointer(bytes), plusIsSpace: false) }
    }

    /// The same for a path held in a `String`.
    public static func percentDecodePath(_ path: String) -> String? {
        if !path.utf8.contains(ASCII.percent) { return path }
        var text = path
        return text.withUTF8 { bytes in
            PercentEncoding.decode(UnsafeRawBufferPointer(bytes), plusIsSpace: false)
        }
    }

    private static func decodePair(_ pair: UnsafeRawBufferPointer) throws(FormDecodingError) -> (name: String, value: String) {
        let separator = pair.firstIndex(of: ASCII.equals) ?? pair.count
        let nameBytes = UnsafeRawBufferPointer(rebasing: pair[..<separator])
        let valueBytes = separator < pair.count ? UnsafeRawBufferPointer(rebasing: pair[(separator + 1)...]) : UnsafeRawBufferPointer(start: nil, count: 0)
        guard let name = PercentEncoding.decode(nameBytes, plusIsSpace: true),
            let value = PercentEncoding.decode(valueBytes, plusIsSpace: true)
        else {
            throw .malformed("The form contains an invalid %-escape or text that is not UTF-8; percent-encode fields as UTF-8.")
        }
        return (name, value)
    }
}
