import Yams

/// A YAML mapping whose keys have been checked against the known ones, with the location of each entry.
struct ConfigMapping {
    /// One `key: value` pair in file order.
    struct Entry {
        var key: String
        var keyLine: Int?
        var value: Node
    }

    /// Key path of the mapping itself.
    var path: String
    /// Line where the mapping starts.
    var line: Int?
    /// Entries in file order, null values included.
    var entries: [Entry]

    /// The value for `key`, or `nil` when it is absent or written as null (`key:` or `key: ~`).
    func value(_ key: String) -> Node? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        return ConfigNodeReader.isNull(entry.value) ? nil : entry.value
    }

    /// Path of the value stored under `key`.
    func path(of key: String) -> String {
        ConfigNodeReader.join(path, key)
    }
}

/// Walks the YAML node tree, type-checking values and collecting every problem with its key path and line.
///
/// Reading never stops at a problem: each method reports what is wrong and returns `nil`, so the caller skips
/// that one value and carries on, and the operator sees everything that is wrong in one pass.
struct ConfigNodeReader {
    /// File name put in front of every problem.
    let file: String
    /// Everything found so far, errors and warnings.
    private(set) var problems: [ConfigProblem] = []

    init(file: String) {
        self.file = file
    }

    // MARK: Reporting

    mutating func error(_ message: String, at path: String, line: Int?) {
        problems.append(ConfigProblem(path: path, line: line, message: message, isWarning: false, file: file))
    }

    mutating func error(_ message: String, at path: String, node: Node?) {
        error(message, at: path, line: node?.mark?.line)
    }

    mutating func warning(_ message: String, at path: String, node: Node?) {
        problems.append(ConfigProblem(
            path: path, line: node?.mark?.line, message: message, isWarning: true, file: file))
    }

    // MARK: Containers

    /// The node as a mapping whose keys are all in `knownKeys` (any key is allowed when `knownKeys` is `nil`).
    mutating func mapping(_ node: Node, at path: String, knownKeys: [String]?) -> ConfigMapping? {
        guard case .mapping(let mapping) = node else {
            error("expected a mapping of keys to values, found \(Self.kind(of: node))", at: path, node: node)
            return nil
        }
        var entries: [ConfigMapping.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                error("keys must be plain text, found \(Self.kind(of: keyNode))", at: path, node: keyNode)
                continue
            }
            let key = keyScalar.string
            if let knownKeys, !knownKeys.contains(key) {
                error(Self.unknownKeyMessage(key, known: knownKeys, atTopLevel: path.isEmpty), at: path, node: keyNode)
                continue
            }
            entries.append(ConfigMapping.Entry(key: key, keyLine: keyNode.mark?.line, value: value))
        }
        return ConfigMapping(path: path, line: node.mark?.line, entries: entries)
    }

    /// The node as a list.
    mutating func sequence(_ node: Node, at path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error("expected a list, found \(Self.kind(of: node))", at: path, node: node)
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// Text. Numbers and dates are accepted as written; booleans and null are not, since `yes`, `off` or an
    /// empty value where text is expected is nearly always a mistake.
    mutating func string(_ node: Node, at path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error("expected text, found \(Self.kind(of: node))", at: path, node: node)
            return nil
        }
        let tag = node.tag.description
        guard tag != Tag.Name.bool.rawValue, tag != Tag.Name.null.rawValue else {
            error("expected text, found \(Self.kind(of: node)); put it in quotes if it is meant as text",
                  at: path, node: node)
            return nil
        }
        return scalar.string
    }

    /// A plain decimal integer such as `2000` (underscores allowed); quoted numbers and `0x` forms are refused.
    mutating func int(_ node: Node, at path: String) -> Int? {
        guard case .scalar(let scalar) = node, node.tag.description == Tag.Name.int.rawValue else {
            error("expected a whole number, found \(Self.kind(of: node))\(Self.excerpt(of: node))", at: path, node: node)
            return nil
        }
        var digits = scalar.string.filter { $0 != "_" }
        let isNegative = digits.hasPrefix("-")
        if digits.hasPrefix("-") || digits.hasPrefix("+") { digits.removeFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            error("expected a decimal whole number, found '\(scalar.string)'", at: path, node: node)
            return nil
        }
        guard let magnitude = Int(digits) else {
            error("the number \(scalar.string) is too large", at: path, node: node)
            return nil
        }
        return isNegative ? -magnitude : magnitude
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes` and `off` included, as Yams reads them).
    mutating func bool(_ node: Node, at path: String) -> Bool? {
        guard case .scalar(let scalar) = node, node.tag.description == Tag.Name.bool.rawValue,
              let value = Bool.construct(from: scalar)
        else {
            error("expected true or false, found \(Self.kind(of: node))\(Self.excerpt(of: node))", at: path, node: node)
            return nil
        }
        return value
    }

    // MARK: Helpers

    /// Whether the node is an empty value or `~`/`null`; quoted `""` is text, not null.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar = node else { return false }
        return node.tag.description == Tag.Name.null.rawValue
    }

    /// What a node is, in words, for "expected X, found Y" messages. Never includes the value itself, which
    /// might be a secret.
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch node.tag.description {
            case Tag.Name.null.rawValue: return "an empty value"
            case Tag.Name.bool.rawValue: return "a boolean"
            case Tag.Name.int.rawValue: return "a number"
            case Tag.Name.float.rawValue: return "a decimal number"
            default: return "text"
            }
        }
    }

    /// ` 'value'` for a short scalar, to quote where a number or boolean was expected; such fields never hold
    /// secrets, so quoting is safe there (and only there: `string(_:at:)` never quotes).
    static func excerpt(of node: Node) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { return "" }
        let text = scalar.string
        return text.count <= 40 ? " '\(text)'" : " '\(text.prefix(37))...'"
    }

    /// `parent.key`, or `parent["key"]` when the key itself contains characters that would make the path ambiguous.
    static func join(_ parent: String, _ key: String) -> String {
        let isPlain = !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
        }
        if !isPlain { return "\(parent)[\"\(key)\"]" }
        return parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// `parent[index]`.
    static func join(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }

    private static func unknownKeyMessage(_ key: String, known: [String], atTopLevel: Bool) -> String {
        var message = "unknown key '\(key)'" + (atTopLevel ? " at the top level" : "")
        if let suggestion = ConfigSpelling.closest(to: key, among: known) {
            message += "; did you mean '\(suggestion)'?"
        } else {
            message += "; expected one of: \(known.joined(separator: ", "))"
        }
        return message
    }
}
