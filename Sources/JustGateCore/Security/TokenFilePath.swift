/// Token file paths that start with `${CREDENTIALS_DIRECTORY}`, for running under systemd.
///
/// systemd's `LoadCredential=` copies each credential into a private directory that only the service can
/// read and passes that directory in `$CREDENTIALS_DIRECTORY` (`/run/credentials/<unit>/`). Its path depends on
/// the unit's name, so a config shared by several units (or renamed) says `{ file: ${CREDENTIALS_DIRECTORY}/x }`
/// and the gateway fills the directory in when it reads the token. Only this one variable, and only at the
/// start of the path, is expanded: general `$VAR` expansion would let any variable steer which file is read.
public enum TokenFilePath {
    /// The variable systemd sets for services with `LoadCredential=` or `SetCredential=`.
    public static let variable = "CREDENTIALS_DIRECTORY"

    private static let spellings = ["${\(variable)}", "$\(variable)"]

    /// Whether the path starts with the variable (either spelling) followed by `/` or nothing.
    public static func usesCredentialsDirectory(_ path: String) -> Bool {
        remainder(after: path) != nil
    }

    /// Whether the path is acceptable as written: no `$` at all, or only the leading variable.
    public static func isWellFormed(_ path: String) -> Bool {
        let rest = remainder(after: path) ?? path
        return !rest.contains("$")
    }

    /// The path to open: the variable replaced by its value from `environment`, or a message saying why not.
    public static func expand(_ path: String, environment: some SecretEnvironment) -> Result<String, TokenFilePathError> {
        guard let rest = remainder(after: path) else { return .success(path) }
        guard let directory = environment.environmentValue(variable), !directory.isEmpty else {
            return .failure(TokenFilePathError(description: """
                the token file path \(path) uses $\(variable), which is not set: start the gateway from its systemd \
                unit (LoadCredential=, see deploy/systemd/justgate.service) or write the full path
                """))
        }
        var base = directory
        while base.hasSuffix("/") { base.removeLast() }
        return .success(base + rest)
    }

    /// What follows the variable (empty or starting with `/`), or nil when the path does not start with it.
    private static func remainder(after path: String) -> String? {
        for spelling in spellings where path.hasPrefix(spelling) {
            let rest = String(path.dropFirst(spelling.count))
            if rest.isEmpty || rest.hasPrefix("/") { return rest }
        }
        return nil
    }
}

/// Why a token file path could not be expanded; names the path and the variable, never a token.
public struct TokenFilePathError: Error, Sendable, CustomStringConvertible {
    /// The whole message, ready to follow "site 'x': ".
    public var description: String
}
