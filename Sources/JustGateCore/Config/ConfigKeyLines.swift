import Yams

/// The line a key path (`sites[1].upstream_token`, `audit.hmac_key`) is written on, for problems found after
/// loading (a token file missing, a CA file unreadable) that carry only their key path.
///
/// Why: `check-config` prints every problem as `file:LINE:` so an editor or terminal jumps to it; the loader's
/// own problems have lines from its node tree, and this finds them for the rest from the same text.
public struct ConfigKeyLines {
    private let root: Node?

    /// Parses `yaml` once; a text that does not parse finds no lines.
    public init(yaml: String) {
        root = try? Yams.compose(yaml: yaml)
    }

    /// The 1-based line of the value at `path`, `nil` when the path is not in the file.
    public func line(of path: String) -> Int? {
        guard var node = root else { return nil }
        for segment in path.split(separator: ".") {
            var name = Substring(segment)
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "["), let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty {
                guard case .mapping(let mapping) = node, let value = mapping[Node(String(name))] else { return nil }
                node = value
            }
            for index in indexes {
                guard case .sequence(let sequence) = node, index >= 0, index < sequence.count else { return nil }
                node = sequence[index]
            }
        }
        return node.mark?.line
    }

    /// `problem` with its line filled in from its key path when it has none.
    public func locate(_ problem: ConfigProblem) -> ConfigProblem {
        guard problem.line == nil, !problem.path.isEmpty else { return problem }
        var located = problem
        located.line = line(of: problem.path)
        return located
    }
}
