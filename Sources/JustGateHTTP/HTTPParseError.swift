/// Why a request cannot be served, as the status the server must answer before closing the connection.
///
/// The wire layer never tries to recover from a malformed request: after any of these errors the framing of the
/// byte stream can no longer be trusted (request smuggling), so the server answers `status` with `reason` as the
/// body and closes.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status to answer with (400, 413, 414, 431, 501 or 505).
    public var status: Int
    /// A sentence for the client saying what was wrong and what to send instead.
    public var reason: String

    /// Creates an error; `reason` should tell the client what to change.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// "400: reason", for logs.
    public var description: String { "\(status): \(reason)" }

    static func badRequest(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }
}
