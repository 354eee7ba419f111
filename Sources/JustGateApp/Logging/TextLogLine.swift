import JustGateCore

/// `log.format: text`: turns the JSON line every logger writes into `time level logger: message key=value …`
/// for a person at a terminal. Converting the finished line (rather than writing a second encoder) keeps one
/// source of truth for what a line holds, so a field added to the JSON shows up in the text too; the cost
/// only matters for JSON, the format for machines and load.
public struct TextLogLine: Sendable {
    /// Colour the level with ANSI escapes (when stderr is a terminal).
    public var colour: Bool

    public init(colour: Bool) {
        self.colour = colour
    }

    /// The text form of a JSON log line; a line that is not a JSON object is returned unchanged.
    public func render(_ line: [UInt8]) -> [UInt8] {
        guard let parsed = try? line.withUnsafeBytes({ bytes throws(JSONParseError) in try JSONParser.parse(bytes) }),
              case .object(let members) = parsed
        else { return line }
        func text(_ key: String) -> String? {
            guard case .string(let value) = members.first(where: { $0.key == key })?.value else { return nil }
            return value
        }
        let level = text("level") ?? "info"
        var out = (text("time") ?? "") + " " + paint(level.uppercased().padding(toLength: 8), level: level)
        // Escaped (`TerminalSafeText`): a message or value may quote what a site or a file said.
        out += (text("logger") ?? "") + ": " + TerminalSafeText.escaped(text("message") ?? "")
        for member in members where !["time", "level", "logger", "message"].contains(member.key) {
            out += " " + TerminalSafeText.escaped(member.key + "=" + TextLogLine.value(member.value))
        }
        return Array(out.utf8)
    }

    private func paint(_ text: String, level: String) -> String {
        guard colour else { return text }
        let code: String
        switch level {
        case "critical", "error": code = "31"
        case "warning": code = "33"
        case "notice": code = "36"
        case "debug", "trace": code = "90"
        default: return text
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// Plain words stay bare; anything with spaces, quotes or `=` is written as a JSON string.
    private static func value(_ value: JSONValue) -> String {
        switch value {
        case .string(let text):
            let bare = !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "=" }
            if bare { return text }
            var out = ""
            JSONWriter.appendQuoted(text, to: &out)
            return out
        case .number(let literal): return literal
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array, .object: return JSONWriter.compact(value)
        }
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
