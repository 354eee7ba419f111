/// Renders the few JSON shapes the upstream answers with, without Foundation.
///
/// Refids are client-supplied and may contain quotes, backslashes, control characters or any Unicode, so every
/// string goes through `quoted(_:)`; non-ASCII is written as raw UTF-8, which JSON allows.
enum JSONText {
    /// A JSON string literal for `text`.
    static func quoted(_ text: String) -> String {
        var output = "\""
        output.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case _ where scalar.value < 0x20:
                output += "\\u00" + hexByte(UInt8(scalar.value))
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
        return output
    }

    /// `[1,2,3]`, the segments answer.
    static func array(of numbers: [Int]) -> String {
        "[" + numbers.map(String.init).joined(separator: ",") + "]"
    }

    /// `{"key":value,...}` with members in the given order and values already rendered.
    static func object(_ members: [(key: String, renderedValue: String)]) -> String {
        "{" + members.map { quoted($0.key) + ":" + $0.renderedValue }.joined(separator: ",") + "}"
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var text = ""
        text.unicodeScalars.append(digits[Int(byte >> 4)])
        text.unicodeScalars.append(digits[Int(byte & 0x0F)])
        return text
    }
}
