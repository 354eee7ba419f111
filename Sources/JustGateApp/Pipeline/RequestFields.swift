import JustGateCore
import JustGateHTTP

/// Turns what a site sent (query string plus a urlencoded, multipart or JSON body) into one list
/// of named text fields, so validation sees the same thing whichever encoding a site's HTTP
/// client happened to use.
enum RequestFields {
    /// Why a body could not be read, already in the site-facing problem form.
    struct DecodingProblem: Error {
        var kind: ProblemKind
        var status: Int
        var detail: String
    }

    static func decode(query: String?, contentType: String?, body: [UInt8],
                       multipartLimits: MultipartLimits) throws(DecodingProblem) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if let query, !query.isEmpty {
            do {
                fields = try URLEncodedForm.decode(query)
            } catch {
                throw DecodingProblem(kind: .badRequest, status: 400, detail: "The query string is not valid URL encoding: \(error.message)")
            }
        }
        guard !body.isEmpty else { return fields }
        // The form sites send most, spelled the usual way, needs no parsing.
        if let contentType, MediaType.isPlainFormURLEncoded(contentType) {
            fields.append(contentsOf: try urlencodedFields(body))
            return fields
        }
        guard let contentType, let mediaType = MediaType(parsing: contentType) else {
            throw DecodingProblem(
                kind: .unsupportedMediaType, status: 415,
                detail: "A body needs a Content-Type: application/x-www-form-urlencoded, multipart/form-data or application/json.")
        }
        let bodyFields: [(name: String, value: String)]
        switch (mediaType.type, mediaType.subtype) {
        case ("application", "x-www-form-urlencoded"):
            bodyFields = try urlencodedFields(body)
        case ("multipart", "form-data"):
            guard let boundary = mediaType.parameters["boundary"], !boundary.isEmpty else {
                throw DecodingProblem(kind: .badRequest, status: 400,
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
            throw DecodingProblem(
                kind: .unsupportedMediaType, status: 415,
                detail: "Content-Type \(ProblemText.excerpt(mediaType.type + "/" + mediaType.subtype)) is not accepted; "
                    + "send application/x-www-form-urlencoded, multipart/form-data or application/json.")
        }
        fields.append(contentsOf: bodyFields)
        return fields
    }

    private static func urlencodedFields(_ body: [UInt8]) throws(DecodingProblem) -> [(name: String, value: String)] {
        try formFields { () throws(FormDecodingError) in
            try body.withBytes { raw throws(FormDecodingError) in try URLEncodedForm.decode(raw) }
        }
    }

    private static func formFields(
        _ decode: () throws(FormDecodingError) -> [(name: String, value: String)]
    ) throws(DecodingProblem) -> [(name: String, value: String)] {
        do {
            return try decode()
        } catch {
            let kind: ProblemKind = error.status == 413 ? .payloadTooLarge : (error.status == 422 ? .invalidFields : .badRequest)
            throw DecodingProblem(kind: kind, status: error.status, detail: error.message)
        }
    }

    /// A JSON body must be one object; strings pass as they are, numbers and booleans as their
    /// literal text, nested objects and arrays as compact JSON (the `data` field), nulls are absent.
    private static func jsonFields(_ body: [UInt8]) throws(DecodingProblem) -> [(name: String, value: String)] {
        let value: JSONValue
        do {
            value = try body.withBytes { raw throws(JSONParseError) in try JSONParser.parse(raw) }
        } catch {
            throw DecodingProblem(kind: .badRequest, status: 400,
                                  detail: "The body is not valid JSON (at byte \(error.offset): \(error.message)).")
        }
        guard case .object(let members) = value else {
            throw DecodingProblem(kind: .badRequest, status: 400, detail: "A JSON body must be an object of fields.")
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
