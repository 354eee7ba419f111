/// One body part of a multipart/form-data body: its header lines decide whether it is an acceptable text field.
enum MultipartPart {
    /// Decodes `headers CRLF CRLF value` into a text field.
    static func decode(_ part: UnsafeRawBufferPointer) throws(FormDecodingError) -> (name: String, value: String) {
        var cursor = 0
        var name: String?
        var sawDisposition = false
        while true {
            guard let lineEnd = part[cursor...].firstIndex(of: ASCII.lf) else {
                throw .malformed("A multipart part has no empty line between its headers and its value.")
            }
            var contentEnd = lineEnd
            if contentEnd > cursor, part[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: part[cursor..<contentEnd])
            cursor = lineEnd + 1
            if line.isEmpty { break }
            let (headerName, value) = try splitHeader(line)
            if ASCII.caseInsensitiveEquals(headerName, lowercase: "content-disposition") {
                guard !sawDisposition else { throw .malformed("A multipart part has two Content-Disposition headers.") }
                sawDisposition = true
                name = try fieldName(fromDisposition: value)
            } else if ASCII.caseInsensitiveEquals(headerName, lowercase: "content-type") {
                try checkContentType(value, field: name)
            } else if ASCII.caseInsensitiveEquals(headerName, lowercase: "content-transfer-encoding") {
                try checkTransferEncoding(value)
            }
        }
        guard let fieldName = name else {
            throw .malformed("Each multipart part needs 'Content-Disposition: form-data; name=\"...\"'.")
        }
        guard let value = UTF8Text.validated(UnsafeRawBufferPointer(rebasing: part[cursor...])) else {
            throw .malformed("The value of form field '\(fieldName)' is not valid UTF-8.")
        }
        return (fieldName, value)
    }

    private static func splitHeader(
        _ line: UnsafeRawBufferPointer
    ) throws(FormDecodingError) -> (name: UnsafeRawBufferPointer.SubSequence, value: UnsafeRawBufferPointer) {
        guard let colon = line.firstIndex(of: ASCII.colon), colon > 0,
            line[..<colon].allSatisfy(ASCII.isTokenChar),
            line[(colon + 1)...].allSatisfy(ASCII.isFieldValueByte)
        else {
            throw .malformed("A multipart part header must be 'Name: value' on one line without control characters.")
        }
        var start = colon + 1
        var end = line.count
        while start < end, ASCII.isWhitespace(line[start]) { start += 1 }
        while end > start, ASCII.isWhitespace(line[end - 1]) { end -= 1 }
        return (line[..<colon], UnsafeRawBufferPointer(rebasing: line[start..<end]))
    }

    private static func fieldName(fromDisposition value: UnsafeRawBufferPointer) throws(FormDecodingError) -> String {
        guard let (leading, parameters) = HeaderParameters.parse(value, leadingAllowsSlash: false) else {
            throw .malformed("A multipart Content-Disposition header is malformed; send 'form-data; name=\"field\"'.")
        }
        guard ASCII.caseInsensitiveEquals(value[leading], lowercase: "form-data") else {
            throw .malformed("Multipart parts must have 'Content-Disposition: form-data'.")
        }
        let name = parameters.first { $0.name == "name" }?.value
        if parameters.contains(where: { $0.name == "filename" || $0.name == "filename*" }) {
            throw FormDecodingError(status: 422, message: "File uploads are not accepted (field '\(name ?? "")'); send text fields only.")
        }
        guard let name, !name.isEmpty else {
            throw .malformed("A multipart part has no field name; send 'Content-Disposition: form-data; name=\"field\"'.")
        }
        return name
    }

    /// Only text parts are fields; a charset, if given, must be UTF-8 (or its subset US-ASCII).
    private static func checkContentType(_ value: UnsafeRawBufferPointer, field: String?) throws(FormDecodingError) {
        let text = String(decoding: value, as: UTF8.self)
        guard let mediaType = MediaType(parsing: text) else {
            throw .malformed("A multipart part has a malformed Content-Type '\(text)'.")
        }
        guard mediaType.type == "text" else {
            throw FormDecodingError(status: 422, message: "Form field '\(field ?? "")' has Content-Type \(mediaType.type)/\(mediaType.subtype); only text fields are accepted.")
        }
        if let charset = mediaType.parameters["charset"],
            !ASCII.caseInsensitiveEquals(charset, "utf-8"), !ASCII.caseInsensitiveEquals(charset, "us-ascii")
        {
            throw FormDecodingError(status: 422, message: "Form field '\(field ?? "")' uses charset \(charset); send UTF-8.")
        }
    }

    private static func checkTransferEncoding(_ value: UnsafeRawBufferPointer) throws(FormDecodingError) {
        let slice = value[...]
        guard ASCII.caseInsensitiveEquals(slice, lowercase: "binary") || ASCII.caseInsensitiveEquals(slice, lowercase: "8bit")
            || ASCII.caseInsensitiveEquals(slice, lowercase: "7bit")
        else {
            throw .malformed("Multipart parts must not use a Content-Transfer-Encoding; send values as plain UTF-8 text.")
        }
    }
}
