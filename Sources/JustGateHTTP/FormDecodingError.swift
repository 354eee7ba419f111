/// Why a form body (urlencoded or multipart) cannot be read, with the status the gateway should answer.
///
/// Form bodies arrive after the head was accepted, so these errors do not require closing the connection; they are
/// separate from `HTTPParseError` for that reason.
public struct FormDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 malformed, 413 too many or too large parts, 422 a file upload part or a non-text part.
    public var status: Int
    /// A sentence for the client saying what was wrong and what to send instead.
    public var message: String

    /// Creates an error; `message` should tell the client what to change.
    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    /// "400: message", for logs.
    public var description: String { "\(status): \(message)" }

    static func malformed(_ message: String) -> FormDecodingError {
        FormDecodingError(status: 400, message: message)
    }
}
