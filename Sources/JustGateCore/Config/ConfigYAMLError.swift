import Yams

/// Turns a Yams parse error into a `ConfigProblem` at the line Yams reports.
///
/// Yams' own descriptions repeat the whole document; operators need one line saying what and where.
enum ConfigYAMLError {
    static func problem(for error: any Error, in yaml: String, file: String) -> ConfigProblem {
        guard let yamlError = error as? YamlError else {
            return ConfigProblem(path: "", line: nil, message: "cannot parse the YAML: \(error)", file: file)
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            return ConfigProblem(path: "", line: mark.line, message: message, file: file)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return ConfigProblem(
                path: "", line: context.mark.line,
                message: "key \(keys) appears more than once in the same mapping (first here); keep one",
                file: file)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { lineNumber(atCharacterOffset: $0, in: yaml) }
            return ConfigProblem(
                path: "", line: line, message: "cannot read the file as text: \(problem); save it as UTF-8",
                file: file)
        default:
            return ConfigProblem(path: "", line: nil, message: "cannot parse the YAML: \(yamlError)", file: file)
        }
    }

    /// 1-based line of the character at `offset`.
    private static func lineNumber(atCharacterOffset offset: Int, in text: String) -> Int {
        var line = 1
        for character in text.prefix(offset) where character.isNewline {
            line += 1
        }
        return line
    }
}
