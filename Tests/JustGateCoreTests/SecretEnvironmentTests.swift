import Foundation
import Testing

@testable import JustGateCore

/// The real environment: reading files and variables, and refusing what cannot be a token file.
@Suite struct SecretEnvironmentTests {
    let environment = ProcessSecretEnvironment()

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("justgate-secret-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func readsAFileWhole() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("token")
        try Data("token-value\n".utf8).write(to: file)
        #expect(try environment.fileContents(file.path) == "token-value\n")
    }

    @Test func missingFilesDirectoriesAndHugeFilesThrowWithAReason() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let huge = directory.appendingPathComponent("huge")
        try Data(repeating: 0x41, count: ProcessSecretEnvironment.maxFileBytes + 1).write(to: huge)
        let cases = [
            (directory.appendingPathComponent("absent").path, "no such file"),
            (directory.path, "it is a directory"),
            (huge.path, "larger than"),
        ]
        for (path, reason) in cases {
            #expect {
                try environment.fileContents(path)
            } throws: { error in
                (error as? SecretFileError)?.reason.contains(reason) == true
            }
        }
    }

    @Test func readsVariablesOfThisProcess() {
        #expect(environment.environmentValue("PATH") == ProcessInfo.processInfo.environment["PATH"])
        #expect(environment.environmentValue("JUSTGATE_SURELY_UNSET_\(UUID().uuidString.prefix(8))") == nil)
    }
}
