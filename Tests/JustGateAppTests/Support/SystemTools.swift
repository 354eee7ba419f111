import Foundation
import Testing

/// The Debian tools the deploy tests run (systemd-analyze, ldd, dpkg, nginx), found on PATH or in the
/// system directories. A missing tool is a failed test that says how to install it: `make test`
/// installs them (scripts/install-deps.sh), and a deploy check that quietly skips proves nothing.
enum SystemTools {
    static let repositoryRoot = CommandLineTests.repositoryRoot

    /// The full path of `name`, or nil.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The full path of `name`, recording a failure that names the Debian package when it is missing.
    static func require(_ name: String, package: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        guard let found = find(name) else {
            Issue.record("""
                \(name) is not installed, so this deploy check cannot run: install it with \
                `bash scripts/install-deps.sh \(package)` (make test does this)
                """, sourceLocation: sourceLocation)
            throw ChildProcess.Failure(description: "\(name) missing")
        }
        return found
    }

    /// Runs a tool to the end.
    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> ChildProcess.Outcome {
        try ChildProcess.run(executable, arguments, directory: directory ?? repositoryRoot.path)
    }

    /// A repository file's text.
    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// A fresh temporary directory, named `<prefix>-<uuid>`.
    static func temporaryDirectory(prefix: String = "justgate-deploy") throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
