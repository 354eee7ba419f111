/// One call to the emulated upstream, in the canonical form justgate forwards.
///
/// The socket glue (or a test) builds this from the wire request so the sandbox never has to know about
/// HTTP framing, percent-encoding or body formats: everything arrives already decoded.
public struct SandboxRequest: Sendable {
    /// The HTTP method exactly as sent (`GET`, `POST`, `PUT`); methods are case-sensitive, as in HTTP.
    public var method: String
    /// The percent-decoded path without the query string, e.g. `/api/user/v1/action/`.
    public var path: String
    /// Decoded query parameters in arrival order; a repeated name means the last value wins, as in PHP.
    public var query: [(name: String, value: String)]
    /// Decoded form fields (urlencoded or multipart) in arrival order; a repeated name means the last value wins.
    public var form: [(name: String, value: String)]
    /// The `X-AUTH-TOKEN` header value, or `nil` when the header was absent.
    public var token: String?

    /// Builds a request; query, form and token default to empty so tests only spell out what matters.
    public init(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        form: [(name: String, value: String)] = [],
        token: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.form = form
        self.token = token
    }

    /// The last value of a form field, because PHP (which the real upstream runs on) keeps the last duplicate.
    func formValue(_ name: String) -> String? {
        form.last(where: { $0.name == name })?.value
    }

    /// The last value of a query parameter, for the same reason as `formValue(_:)`.
    func queryValue(_ name: String) -> String? {
        query.last(where: { $0.name == name })?.value
    }
}

/// What the emulated upstream answers: a status, a content type and a complete body.
///
/// Bodies are small and produced in one piece, so a plain `String` is the honest representation.
public struct SandboxResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// Either `text/plain` (messages, the new JUID) or `application/json` (segments and statistics).
    public var contentType: String
    /// The full response body.
    public var body: String

    /// Builds a response; public so the glue and tests can construct expected values.
    public init(status: Int, contentType: String, body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// The content type the upstream uses for messages and the new JUID.
    public static let plainText = "text/plain"
    /// The content type the upstream uses for segments and statistics.
    public static let json = "application/json"

    /// A plain-text answer, the upstream's format for every message and error.
    static func text(_ status: Int, _ body: String) -> SandboxResponse {
        SandboxResponse(status: status, contentType: plainText, body: body)
    }

    /// The answer to a successful subscribe or unsubscribe: the reference's examples show an empty response.
    static let emptySuccess = text(200, "")

    /// A JSON answer with a body already rendered by `JSONText`.
    static func jsonBody(_ body: String) -> SandboxResponse {
        SandboxResponse(status: 200, contentType: json, body: body)
    }
}
