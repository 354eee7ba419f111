import Yams

/// Reading named fields out of a checked mapping, with the required/optional and range rules in one place.
extension ConfigNodeReader {
    /// The value under `key`, reporting it as missing when it is absent or empty.
    mutating func required(_ mapping: ConfigMapping, _ key: String, hint: String = "") -> Node? {
        if let value = mapping.value(key) { return value }
        let entry = mapping.entries.first { $0.key == key }
        let what = entry == nil ? "missing required key '\(key)'" : "'\(key)' must not be empty"
        let location = mapping.path.isEmpty ? "" : " in \(mapping.path)"
        error(what + location + hint, at: mapping.path, line: entry?.keyLine ?? mapping.line)
        return nil
    }

    /// Optional whole number at least `minimum`; `fallback` when absent, `nil` when present but wrong.
    mutating func int(
        in mapping: ConfigMapping, _ key: String, default fallback: Int, atLeast minimum: Int
    ) -> Int? {
        guard let node = mapping.value(key) else { return fallback }
        return int(node, at: mapping.path(of: key), atLeast: minimum)
    }

    /// Whole number at least `minimum`.
    mutating func int(_ node: Node, at path: String, atLeast minimum: Int) -> Int? {
        guard let value = int(node, at: path) else { return nil }
        guard value >= minimum else {
            let rule = minimum == 1 ? "must be greater than 0" : "must be at least \(minimum)"
            error("\(rule), found \(value)", at: path, node: node)
            return nil
        }
        return value
    }

    /// Optional boolean; `fallback` when absent.
    mutating func bool(in mapping: ConfigMapping, _ key: String, default fallback: Bool) -> Bool? {
        guard let node = mapping.value(key) else { return fallback }
        return bool(node, at: mapping.path(of: key))
    }

    /// Optional text; `.some(nil)` when absent, `nil` when present but wrong.
    mutating func optionalString(in mapping: ConfigMapping, _ key: String) -> String?? {
        guard let node = mapping.value(key) else { return .some(nil) }
        guard let text = string(node, at: mapping.path(of: key)) else { return nil }
        return .some(text)
    }

    /// Text that must be one of `choices` (an enum's raw values), reporting the choices otherwise.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: Node, at path: String, as type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let text = string(node, at: path) else { return nil }
        if let value = Choice(rawValue: text) { return value }
        let names = Choice.allCases.map(\.rawValue)
        var message = "'\(text)' is not one of: \(names.joined(separator: ", "))"
        if let suggestion = ConfigSpelling.closest(to: text.lowercased(), among: names) {
            message += "; did you mean '\(suggestion)'?"
        }
        error(message, at: path, node: node)
        return nil
    }
}
