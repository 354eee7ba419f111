import JustGateCore
import JustGateHTTP

/// Turns what a site sent (query string plus a urlencoded, multipart or JSON body) into one list
/// of named text fields, so validation sees the same thing whichever encoding a site's HTTP
/// client happened to use. A query or body that cannot be read is a `Problem` (400, 413, 415 or 422):
/// the pure decoders' errors (`FormDecodingError`, `JSONParseError`) map to it here, in `formFields`
/// and `jsonFields`.
enum RequestFields {
    /// Query fields first, then body fields; more than `maxFields` in all is a 413 `too-many-fields`,
    /// found while decoding (a urlencoded body stops being read at the limit), before any rule runs.
    static func decode(query: String?, contentType: String?, body: [UInt8], multipartLimits: MultipartLimits,
                       maxFields: Int) throws(Problem) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if let query, !query.isEmpty {
            do {
                fields = try URLEncodedForm.decode(query, maxFields: maxFields)
            } catch {
                throw Problem(.badRequest, status: 400, detail: "The query string is not valid URL encoding: \(error.message)")
            }
            try checkCount(fields.count, maxFields: maxFields)
        }
        guard !body.isEmpty else { return fields }
        let remaining = maxFields - fields.count
        // The form sites send most, spelled the usual way, needs no parsing.
        if let contentType, MediaType.isPlainFormURLEncoded(contentType) {
            let bodyFields = try urlencodedFields(body, maxFields: remaining)
            try checkCount(fields.count + bodyFields.count, maxFields: maxFields)
            return joined(fields, bodyFields)
        }
        guard let contentType, let mediaType = MediaType(parsing: contentType) else {
            throw Problem(
                .unsupportedMediaType, status: 415,
                detail: "A body needs a Content-Type: application/x-www-form-urlencoded, multipart/form-data or application/json.")
        }
        let bodyFields: [(name: String, value: String)]
        switch (mediaType.type, mediaType.subtype) {
        case ("application", "x-www-form-urlencoded"):
            bodyFields = try urlencodedFields(body, maxFields: remaining)
        case ("multipart", "form-data"):
            guard let boundary = mediaType.parameters["boundary"], !boundary.isEmpty else {
                throw Problem(.badRequest, status: 400,
                                      detail: "multipart/form-data needs a boundary parameter in Content-Type.")
            }
            bodyFields = try formFields { () throws(FormDecodingError) in
                try body.withBytes { raw throws(FormDecodingError) in
                    try MultipartFormData.decode(raw, boundary: boundary, limits: multipartLimits)
                }
            }
        case ("application", "json"):
            bodyFields = try jsonFields(body)
        default:
            throw Problem(
                .unsupportedMediaType, status: 415,
                detail: "Content-Type \(ProblemText.excerpt(mediaType.type + "/" + mediaType.subtype)) is not accepted; "
                    + "send application/x-www-form-urlencoded, multipart/form-data or application/json.")
        }
        try checkCount(fields.count + bodyFields.count, maxFields: maxFields)
        return joined(fields, bodyFields)
    }

    /// Query fields, then body fields. Without a query (the usual request) the body's list is the answer
    /// as it is, not copied into a new one.
    private static func joined(_ query: [(name: String, value: String)],
                               _ body: [(name: String, value: String)]) -> [(name: String, value: String)] {
        guard !query.isEmpty else { return body }
        return query + body
    }

    private static func checkCount(_ count: Int, maxFields: Int) throws(Problem) {
        guard count > maxFields else { return }
        throw Problem(.tooManyFields, status: 413,
                              detail: "The request carries more than \(maxFields) fields; no operation takes more than a dozen, "
                                + "so send only the operation's fields.")
    }

    private static func urlencodedFields(_ body: [UInt8], maxFields: Int) throws(Problem) -> [(name: String, value: String)] {
        try formFields { () throws(FormDecodingError) in
            try body.withBytes { raw throws(FormDecodingError) in try URLEncodedForm.decode(raw, maxFields: max(0, maxFields)) }
        }
    }

    private static func formFields(
        _ decode: () throws(FormDecodingError) -> [(name: String, value: String)]
    ) throws(Problem) -> [(name: String, value: String)] {
        do {
            return try decode()
        } catch {
            let kind: ProblemKind = error.status == 413 ? .payloadTooLarge : (error.status == 422 ? .invalidFields : .badRequest)
            throw Problem(kind, status: error.status, detail: error.message)
        }
    }

    /// A JSON body must be one object; strings pass as they are, numbers and booleans as their
    /// literal text, nested objects and arrays as compact JSON (the `data` field), nulls are absent.
    private static func jsonFields(_ body: [UInt8]) throws(Problem) -> [(name: String, value: String)] {
        let value: JSONValue
        do {
            value = try body.withBytes { raw throws(JSONParseError) in try JSONParser.parse(raw) }
        } catch {
            throw Problem(.badRequest, status: 400,
                                  detail: "The body is not valid JSON (at byte \(error.offset): \(error.message)).")
        }
        guard case .object(let members) = value else {
            throw Problem(.badRequest, status: 400, detail: "A JSON body must be an object of fields.")
        }
        var fields: [(name: String, value: String)] = []
        for member in members {
            switch member.value {
            case .null: continue
            case .string(let text): fields.append((member.key, text))
            case .number(let literal): fields.append((member.key, literal))
            case .bool(let flag): fields.append((member.key, flag ? "true" : "false"))
            case .array, .object: fields.append((member.key, JSONWriter.compact(member.value)))
            }
        }
        return fields
    }
}
