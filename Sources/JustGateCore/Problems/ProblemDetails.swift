/// An RFC 9457 problem document: every error justgate itself produces has this shape, so a site
/// handles all of them with one parser and can act on the stable `type` and field `code`s.
public struct ProblemDetails: Sendable, Equatable {
    public var kind: ProblemKind
    public var status: Int
    public var detail: String
    public var requestID: String
    public var errors: [FieldProblem]
    /// For a 429: the rate-limit policies that refused the request.
    public var policies: [String]
    /// Field problems found but not listed in `errors` (written as `errors_truncated`).
    public var errorsOmitted: Int

    /// The largest body written: whatever the input, an error answer stays small, so a hostile
    /// request cannot make the gateway build, send and log megabytes.
    public static let maxBodyBytes = 16 * 1024
    /// Room kept for everything but the `errors` entries (type, title, detail, request id, counts).
    static let envelopeBytes = 1024

    public init(_ kind: ProblemKind, status: Int? = nil, detail: String, requestID: String, errors: [FieldProblem] = [],
                errorsOmitted: Int = 0, policies: [String] = []) {
        self.kind = kind
        self.status = status ?? kind.status
        self.detail = detail
        self.requestID = requestID
        self.errors = errors
        self.errorsOmitted = errorsOmitted
        self.policies = policies
    }

    /// The `application/problem+json` body, under `maxBodyBytes`: entries of `errors` that do not
    /// fit are counted in `errors_truncated` with those the list already left out.
    public func json() -> String {
        var out = "{\"type\":"
        JSONWriter.appendQuoted(kind.typeURI, to: &out)
        out += ",\"title\":"
        JSONWriter.appendQuoted(kind.title, to: &out)
        out += ",\"status\":\(status),\"detail\":"
        JSONWriter.appendQuoted(detail, to: &out)
        out += ",\"request_id\":"
        JSONWriter.appendQuoted(requestID, to: &out)
        var omitted = errorsOmitted
        if !errors.isEmpty {
            let budget = Self.maxBodyBytes - Self.envelopeBytes
            out += ",\"errors\":["
            var written = 0
            for error in errors {
                var entry = written > 0 ? ",{\"field\":" : "{\"field\":"
                JSONWriter.appendQuoted(error.field, to: &entry)
                entry += ",\"code\":"
                JSONWriter.appendQuoted(error.code, to: &entry)
                entry += ",\"message\":"
                JSONWriter.appendQuoted(error.message, to: &entry)
                entry += "}"
                guard out.utf8.count + entry.utf8.count <= budget else {
                    omitted += errors.count - written
                    break
                }
                out += entry
                written += 1
            }
            out += "]"
        }
        if omitted > 0 { out += ",\"errors_truncated\":\(omitted)" }
        if !policies.isEmpty {
            out += ",\"policies\":["
            for (index, policy) in policies.enumerated() {
                if index > 0 { out += "," }
                JSONWriter.appendQuoted(policy, to: &out)
            }
            out += "]"
        }
        out += "}"
        return out
    }

    public static let contentType = "application/problem+json"
}

/// The kinds of problem justgate reports, each with a stable type URI and title.
public enum ProblemKind: String, Sendable, CaseIterable {
    case badRequest = "bad-request"
    case unauthorized
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
    case requestTimeout = "request-timeout"
    case payloadTooLarge = "payload-too-large"
    case uriTooLong = "uri-too-long"
    case unsupportedMediaType = "unsupported-media-type"
    case invalidFields = "invalid-fields"
    case headersTooLarge = "headers-too-large"
    case quotaExceeded = "quota-exceeded"
    case internalError = "internal-error"
    case notImplemented = "not-implemented"
    case badGateway = "bad-gateway"
    case unavailable
    case gatewayTimeout = "gateway-timeout"
    case versionNotSupported = "http-version-not-supported"
    // Kinds that share a status with an older kind come last, so `init(status:)` keeps
    // answering the general kind for a bare status.
    case ambiguousCredentials = "ambiguous-credentials"
    case tooManyFields = "too-many-fields"
    case idempotencyConflict = "idempotency-conflict"
    case idempotencyMismatch = "idempotency-mismatch"

    public var typeURI: String { "urn:justgate:problem:\(rawValue)" }

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .notFound: 404
        case .methodNotAllowed: 405
        case .requestTimeout: 408
        case .payloadTooLarge: 413
        case .uriTooLong: 414
        case .unsupportedMediaType: 415
        case .invalidFields: 422
        case .headersTooLarge: 431
        case .quotaExceeded: 429
        case .internalError: 500
        case .notImplemented: 501
        case .badGateway: 502
        case .unavailable: 503
        case .gatewayTimeout: 504
        case .versionNotSupported: 505
        case .ambiguousCredentials: 400
        case .tooManyFields: 413
        case .idempotencyConflict: 409
        case .idempotencyMismatch: 422
        }
    }

    public var title: String {
        switch self {
        case .badRequest: "Malformed request"
        case .unauthorized: "Missing, unknown or expired site key"
        case .notFound: "No such operation"
        case .methodNotAllowed: "Method not allowed for this operation"
        case .requestTimeout: "Request not received in time"
        case .payloadTooLarge: "Request body too large"
        case .uriTooLong: "Request line too long"
        case .unsupportedMediaType: "Unsupported body format"
        case .invalidFields: "Invalid fields"
        case .headersTooLarge: "Request headers too large"
        case .quotaExceeded: "Too many requests"
        case .internalError: "Internal gateway error"
        case .notImplemented: "Not implemented"
        case .badGateway: "Upstream unavailable"
        case .unavailable: "Gateway unavailable"
        case .gatewayTimeout: "Upstream timed out"
        case .versionNotSupported: "HTTP version not supported"
        case .ambiguousCredentials: "Ambiguous credentials"
        case .tooManyFields: "Too many fields"
        case .idempotencyConflict: "Request with this Idempotency-Key in progress"
        case .idempotencyMismatch: "Idempotency-Key reused for another request"
        }
    }

    /// The kind for a status the server produced on its own (parse errors, timeouts, overload).
    public init(status: Int) {
        self = ProblemKind.allCases.first { $0.status == status } ?? (status >= 500 ? .internalError : .badRequest)
    }
}
