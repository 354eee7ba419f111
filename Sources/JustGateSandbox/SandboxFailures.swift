/// Errors the sandbox is told to answer instead of doing the work (`justgate sandbox --fail OPERATION=TEXT`),
/// so a site can exercise its handling of upstream failures it could not otherwise provoke, such as
/// `Error service`.
///
/// A forced error applies to every call of its operation, on every channel, once the token, path and method
/// have been accepted; such a call changes no state. Only texts that operation can answer are accepted
/// (`SandboxErrorText.byOperation`), each sent with the status the sandbox normally pairs with it.
public struct SandboxFailures: Sendable, Equatable {
    /// operation id → the error every call of it gets.
    private var forced: [String: SandboxErrorText] = [:]

    /// No forced errors: the sandbox answers every call on its merits.
    public init() {}

    /// Parses `OPERATION=TEXT` items, as given to `--fail`; each operation may be named once.
    public init(parsing items: [String]) throws(SandboxFailureSpecError) {
        for item in items {
            try add(parsing: item)
        }
    }

    /// Whether no error is forced.
    public var isEmpty: Bool { forced.isEmpty }

    /// The error forced on `operation`, if any.
    func error(for operation: String) -> SandboxErrorText? {
        forced[operation]
    }

    /// Adds one `OPERATION=TEXT` item. The text is matched ignoring case and surrounding spaces, and stored
    /// as the reference spells it.
    public mutating func add(parsing item: String) throws(SandboxFailureSpecError) {
        guard let equals = item.firstIndex(of: "=") else {
            throw SandboxFailureSpecError(
                "--fail expects OPERATION=TEXT, like --fail 'stat.by_refid=Error service'; got \(Self.quoted(item)). "
                    + Self.allowedSummary)
        }
        let operation = Self.trimmed(item[..<equals])
        let text = Self.trimmed(item[item.index(after: equals)...])
        guard let errors = SandboxErrorText.byOperation.first(where: { $0.operation == operation })?.errors else {
            throw SandboxFailureSpecError(
                "--fail: \(Self.quoted(operation)) is not an operation id. " + Self.allowedSummary)
        }
        guard let error = errors.first(where: { $0.text.lowercased() == text.lowercased() }) else {
            throw SandboxFailureSpecError(
                "--fail \(operation): \(Self.quoted(text)) is not a text \(operation) answers; use one of "
                    + errors.map { Self.quoted($0.text) }.joined(separator: ", ") + ".")
        }
        guard forced[operation] == nil else {
            throw SandboxFailureSpecError("--fail names \(operation) twice; give each operation at most once.")
        }
        forced[operation] = error
    }

    /// One line per operation with the texts it accepts, for error messages and `--help`.
    public static var allowedList: String {
        SandboxErrorText.byOperation.map { entry in
            "  \(entry.operation): " + entry.errors.map { quoted($0.text) }.joined(separator: ", ")
        }.joined(separator: "\n")
    }

    private static var allowedSummary: String {
        "Operation ids and the texts each accepts:\n" + allowedList
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text + "\""
    }

    private static func trimmed(_ text: Substring) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

/// Why a `--fail` item was refused; the message names the allowed operation ids and texts.
public struct SandboxFailureSpecError: Error, Equatable, CustomStringConvertible {
    /// What was wrong and what to write instead.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
