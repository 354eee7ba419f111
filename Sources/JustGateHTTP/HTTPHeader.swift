/// One header field as the client sent it, so the gateway can forward or inspect it without re-parsing.
public struct HTTPHeader: Sendable, Equatable {
    /// Field name with the client's spelling; compare it case-insensitively.
    public var name: String
    /// Field value with leading and trailing spaces and tabs removed; obs-text bytes that are not UTF-8 become U+FFFD.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTPHeader {
    /// The first value of the field called `name` (case-insensitive), because most fields may appear only once.
    ///
    /// The headers are read where they lie in the array's buffer: `for header in self` copied each one (a retain and
    /// a release of its two strings), and a request's half-dozen lookups each walk every header.
    public func first(named name: String) -> String? {
        withUnsafeBufferPointer { headers in
            for index in headers.indices where ASCII.caseInsensitiveEquals(headers[index].name, name) {
                return headers[index].value
            }
            return nil
        }
    }

    /// All values of the field called `name` (case-insensitive), in the order received.
    public func all(named name: String) -> [String] {
        withUnsafeBufferPointer { headers in
            var found: [String] = []
            for index in headers.indices where ASCII.caseInsensitiveEquals(headers[index].name, name) {
                found.append(headers[index].value)
            }
            return found
        }
    }
}
