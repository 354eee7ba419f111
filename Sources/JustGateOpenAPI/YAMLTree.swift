import JustGateCore

/// A YAML value assembled in memory before it is written.
///
/// The OpenAPI generator says *what* the document contains by building one of these; ``YAMLEmitter``
/// alone decides *how* it is spelled (quoting, indentation), so the checked-in document is byte-stable
/// and no YAML library is needed to produce it. Mappings keep their insertion order: the document's
/// order is part of its stability.
indirect enum YAMLTree: Sendable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case mapping([(key: String, value: YAMLTree)])
    case sequence([YAMLTree])

    /// A mapping from pairs in order, leaving out the pairs whose value is nil, so optional keys
    /// (`required`, `x-justgate-alias-of`) can be written inline without `if` ladders.
    static func map(_ pairs: [(String, YAMLTree?)]) -> YAMLTree {
        .mapping(pairs.compactMap { key, value in value.map { (key: key, value: $0) } })
    }

    /// A sequence of strings, the common case (`required`, `enum`, `tags`).
    static func strings(_ values: [String]) -> YAMLTree {
        .sequence(values.map(YAMLTree.string))
    }

    /// A `$ref` to a local component, e.g. `ref("schemas", "Problem")`.
    static func ref(_ section: String, _ name: String) -> YAMLTree {
        .map([("$ref", .string("#/components/\(section)/\(name)"))])
    }

    /// The value under `key` when this is a mapping; used by tests and by callers that extend a node.
    subscript(key: String) -> YAMLTree? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// This mapping with `extra` pairs appended (nil values skipped); any other value is returned as is.
    func adding(_ extra: [(String, YAMLTree?)]) -> YAMLTree {
        guard case .mapping(let entries) = self, case .mapping(let more) = YAMLTree.map(extra) else { return self }
        return .mapping(entries + more)
    }
}

extension YAMLTree: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) {
        self = .string(value)
    }

    init(integerLiteral value: Int) {
        self = .integer(value)
    }

    init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}
