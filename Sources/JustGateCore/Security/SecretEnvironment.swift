import Foundation

/// The outside world as far as secrets are concerned: environment variables and files.
///
/// `SecretResolver` depends on this protocol instead of the process so tests can hand it a fake environment and
/// check every failure message without touching real variables or files.
public protocol SecretEnvironment: Sendable {
    /// The value of an environment variable, or `nil` when it is not set.
    func environmentValue(_ name: String) -> String?
    /// The whole contents of a file as UTF-8; throws when the file cannot be read or is not UTF-8.
    func fileContents(_ path: String) throws -> String
    /// The permission bits of the file at `path` (after following links), such as `0o640`; `nil` when they
    /// cannot be read. Read where the file is read, so the core that judges them stays free of file access.
    func filePermissions(_ path: String) -> Int?
}

extension SecretEnvironment {
    /// Unknown by default: an environment that cannot tell raises no warning.
    public func filePermissions(_ path: String) -> Int? { nil }
}

/// Why a secret file could not be read; its description names the path and the reason, never any contents.
public struct SecretFileError: Error, Sendable, CustomStringConvertible {
    /// The file that could not be read.
    public var path: String
    /// What went wrong, in words an operator can act on.
    public var reason: String

    /// Builds an error for `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// The reason alone; callers add the path and the site themselves.
    public var description: String { reason }
}

/// The real process environment and file system: the edge where secrets enter the gateway.
public struct ProcessSecretEnvironment: SecretEnvironment {
    /// Token files larger than this are refused: a token is short, a large file is a wrong path.
    public static let maxFileBytes = 64 * 1024

    /// Reads the environment of the current process.
    public init() {}

    /// `getenv`, so values set after start-up by the process itself are seen too.
    public func environmentValue(_ name: String) -> String? {
        guard let pointer = getenv(name) else { return nil }
        return String(cString: pointer)
    }

    /// Reads the file in one go, refusing directories, oversized files and non-UTF-8 contents.
    public func fileContents(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SecretFileError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw SecretFileError(path: path, reason: "it is a directory, not a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretFileError(path: path, reason: "permission denied or unreadable")
        }
        guard data.count <= ProcessSecretEnvironment.maxFileBytes else {
            throw SecretFileError(
                path: path, reason: "larger than \(ProcessSecretEnvironment.maxFileBytes) bytes, not a token file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SecretFileError(path: path, reason: "not valid UTF-8")
        }
        return text
    }

    /// The mode of the file a path ends at (links followed, as reading it does), from `stat`.
    public func filePermissions(_ path: String) -> Int? {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
              let mode = attributes[.posixPermissions] as? NSNumber
        else { return nil }
        return mode.intValue & 0o7777
    }
}
