/// Rules for putting anything a client sent into an error message: short, and with control
/// characters escaped, so an error body can never carry a large or terminal-hostile echo.
public enum ProblemText {
    public static let maxExcerptCharacters = 32

    /// At most `maxExcerptCharacters`, control characters shown as `\u{..}`, "…" when cut.
    public static func excerpt(_ raw: some StringProtocol) -> String {
        var out = ""
        var count = 0
        for scalar in raw.unicodeScalars {
            if count == maxExcerptCharacters {
                out += "…"
                break
            }
            if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}
