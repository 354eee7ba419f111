/// A JSON document as justgate needs it: members in order, numbers as written.
///
/// Bodies are forwarded upstream after field rules run, so nothing may change by accident: member order
/// is kept (a dictionary would shuffle it) and numbers stay the literal text (a Double would turn
/// 99988800066 into 9.9988800066e10 and lose digits past 2^53).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, exactly as it appeared in the input (already checked against the grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
}

/// One `"key": value` pair of an object; objects are arrays of these so order and duplicates survive parsing.
public struct JSONMember: Sendable, Equatable {
    /// The member name, unescaped.
    public var key: String
    /// The member value.
    public var value: JSONValue

    /// Creates a member.
    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Why a document is not strict JSON, with the byte offset where parsing stopped so a caller can point at it.
public struct JSONParseError: Error, Sendable, Equatable {
    /// Zero-based byte offset into the input.
    public var offset: Int
    /// What was expected at that offset.
    public var message: String

    /// Creates an error.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}
