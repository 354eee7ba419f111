/// A string that must never end up in a log, an error message, a dump or a JSON document by accident.
///
/// Every way Swift has of turning a value into text (`"\(x)"`, `String(describing:)`, `String(reflecting:)`,
/// `dump`, `Mirror`, `Encodable`) yields `<redacted>`, including when the secret sits inside an array or a struct.
/// `reveal()` is the single, greppable way to get the value, used where the token is put on the wire.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, Encodable
{
    /// The text shown wherever a secret would otherwise be printed.
    public static let redactedText = "<redacted>"

    private let storage: String

    /// Wraps a value; from here on only `reveal()` shows it.
    public init(_ value: String) {
        self.storage = value
    }

    /// The secret value itself. Call only where it is sent to its one legitimate destination.
    public func reveal() -> String {
        storage
    }

    /// Always `<redacted>`.
    public var description: String { Secret.redactedText }

    /// Always `<redacted>`.
    public var debugDescription: String { Secret.redactedText }

    /// A mirror with no children whose subject prints as `<redacted>`, so reflection-based printers see nothing.
    public var customMirror: Mirror {
        Mirror(self, children: KeyValuePairs<String, Any>(), displayStyle: nil)
    }

    /// Encodes as the string `<redacted>`, so a config or record that contains a secret can still be serialised.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Secret.redactedText)
    }

    /// Compares without an early exit, so comparing a guess against a secret does not leak a matching prefix.
    public static func == (lhs: Secret, rhs: Secret) -> Bool {
        let left = Array(lhs.storage.utf8)
        let right = Array(rhs.storage.utf8)
        var difference: UInt8 = left.count == right.count ? 0 : 1
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}
