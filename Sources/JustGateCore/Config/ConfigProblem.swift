/// One thing wrong (or merely doubtful) in a configuration, located precisely enough to fix without searching.
///
/// Loading collects every problem instead of stopping at the first, so an operator fixes a file in one pass.
/// The `description` follows the compiler convention `file:line: path: message`, which editors can jump to.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// Key path of the offending value, e.g. `sites[0].upstream_token`; empty for the document itself.
    public var path: String
    /// 1-based line in the YAML file, when the problem can be tied to one.
    public var line: Int?
    /// What is wrong and, where possible, what to do about it.
    public var message: String
    /// Warnings do not stop the gateway from starting; errors do.
    public var isWarning: Bool
    /// Name of the file the problem is in, as given to the loader; `nil` for problems found after loading.
    public var file: String?

    /// Builds a problem; most callers use `error(_:at:line:)` or `warning(_:at:line:)` on the loader side.
    public init(path: String, line: Int?, message: String, isWarning: Bool = false, file: String? = nil) {
        self.path = path
        self.line = line
        self.message = message
        self.isWarning = isWarning
        self.file = file
    }

    /// `file:LINE: [warning: ]path: message` with `file` filled in when the problem has none, the form editors
    /// and terminals jump to (`config/justgate.yaml:12: sites[0]…`); `file: …` when no line is known.
    public func located(in file: String) -> String {
        var located = self
        if located.file == nil { located.file = file }
        return located.description
    }

    /// `file:line: [warning: ]path: message`, dropping the parts that are unknown.
    public var description: String {
        var text = ""
        if let file {
            text += file
            if let line { text += ":\(line)" }
            text += ": "
        } else if let line {
            text += "line \(line): "
        }
        if isWarning { text += "warning: " }
        if !path.isEmpty { text += "\(path): " }
        text += message
        return text
    }
}

/// Every problem that kept a configuration from loading, in file order.
///
/// It is an `Error` so callers can `throw` it, but it deliberately carries the whole list: printing one
/// `ConfigProblem` per line is the intended way to show it.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, errors and warnings alike, sorted by line.
    public var problems: [ConfigProblem]

    /// Wraps a list of problems.
    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
