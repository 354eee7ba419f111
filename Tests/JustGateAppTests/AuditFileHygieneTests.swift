import Foundation
import JustGateApp
import JustGateCore
import Logging
import Testing

/// The audit log's files on disk (issue 21, item 10): private modes, no writing through symbolic links, and one
/// writer per file however a second gateway reaches it. Real files in a temporary directory, real writers.
@Suite struct AuditFileHygieneTests {
    static let key = Array("hygiene-test-audit-key-0123".utf8)

    func temporaryDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "justgate-hygiene-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    func writer(_ path: String, takeOver: Bool = false) throws -> AuditWriter {
        try AuditWriter(config: AuditConfig(path: path), key: AuditFileHygieneTests.key, logger: Logger(label: "test"),
                        inFlightAllowance: 10, takeOver: takeOver)
    }

    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }

    func submit(_ writer: AuditWriter, _ id: String) {
        var record = AuditRecord(time: "")
        record.requestID = id
        #expect(writer.submit(record, receivedAtMillis: 1_796_000_000_000))
    }

    /// A log restored with the default umask (0644) is made private at start, rotated files too, and the
    /// start-up notices say which file had which mode.
    @Test func aWorldReadableLogAndItsRotatedFilesAreMadePrivateAtStart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory + "/audit.jsonl")
        submit(first, "one")
        first.stop()
        try FileManager.default.copyItem(atPath: directory + "/audit.jsonl", toPath: directory + "/audit.jsonl.1")
        try "".write(toFile: directory + "/audit.jsonl", atomically: false, encoding: .utf8)
        chmod(directory + "/audit.jsonl", 0o644)
        chmod(directory + "/audit.jsonl.1", 0o644)
        #expect(try mode(directory + "/audit.jsonl") == 0o644)

        let second = try writer(directory + "/audit.jsonl")
        second.stop()
        #expect(try mode(directory + "/audit.jsonl") == 0o600)
        #expect(try mode(directory + "/audit.jsonl.1") == 0o600)
        let notices = second.startupNotices.joined(separator: "\n")
        #expect(notices.contains("\(directory)/audit.jsonl was mode 0644"), "\(notices)")
        #expect(notices.contains("\(directory)/audit.jsonl.1 was mode 0644"), "\(notices)")
    }

    /// A dangling link at `audit.path` used to make the gateway create and write its target.
    @Test func aDanglingSymbolicLinkAtTheAuditPathIsRefusedAndItsTargetNeverCreated() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/elsewhere.txt"
        try FileManager.default.createSymbolicLink(atPath: directory + "/audit.jsonl", withDestinationPath: target)
        #expect {
            _ = try writer(directory + "/audit.jsonl")
        } throws: { error in
            "\(error)".contains("is a symbolic link") && "\(error)".contains("set audit.path to the real file")
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// A second gateway whose `audit.path` is a link to the first one's live file is refused.
    @Test func aSymbolicLinkToAnotherWritersLiveFileIsRefused() throws {
        let directory = try temporaryDirectory()
        let other = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: other)
        }
        let first = try writer(directory + "/audit.jsonl")
        defer { first.stop() }
        try FileManager.default.createSymbolicLink(atPath: other + "/audit.jsonl", withDestinationPath: directory + "/audit.jsonl")
        #expect {
            _ = try writer(other + "/audit.jsonl")
        } throws: { "\($0)".contains("is a symbolic link") }
    }

    /// A directory reached through a link names the same lock file, so the second writer is refused.
    @Test func aSecondWriterThroughALinkedDirectoryIsRefused() throws {
        let directory = try temporaryDirectory()
        let link = NSTemporaryDirectory() + "justgate-hygiene-link-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: link)
        }
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory)
        let first = try writer(directory + "/audit.jsonl")
        defer { first.stop() }
        #expect {
            _ = try writer(link + "/audit.jsonl")
        } throws: { "\($0)".contains("being written by another running justgate") }
    }

    /// A hard link gives the live file a second name (and so a lock file of its own): refused.
    @Test func aLiveFileWithASecondNameIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory + "/audit.jsonl")
        defer { first.stop() }
        try FileManager.default.linkItem(atPath: directory + "/audit.jsonl", toPath: directory + "/other.jsonl")
        #expect {
            _ = try writer(directory + "/other.jsonl")
        } throws: { "\($0)".contains("has 2 names (hard links)") }
    }

    /// A link among the rotated files or at the lock file is refused; nothing is written through it.
    @Test func aLinkedRotatedFileOrLockFileIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/target.txt"
        try "x\n".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/audit.jsonl.1", withDestinationPath: target)
        #expect {
            _ = try writer(directory + "/audit.jsonl")
        } throws: { "\($0)".contains("audit.jsonl.1 is a symbolic link") }
        try FileManager.default.removeItem(atPath: directory + "/audit.jsonl.1")
        try FileManager.default.removeItem(atPath: directory + "/audit.jsonl.lock")
        try FileManager.default.createSymbolicLink(atPath: directory + "/audit.jsonl.lock", withDestinationPath: target)
        #expect {
            _ = try writer(directory + "/audit.jsonl")
        } throws: { "\($0)".contains("audit.jsonl.lock is a symbolic link") }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "x\n")
    }

    /// Others could replace or remove the log's files in a directory they may write to.
    @Test func aDirectoryOthersMayWriteToIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o777)
        #expect {
            _ = try writer(directory + "/audit.jsonl")
        } throws: { "\($0)".contains("is writable by others (mode 0777)") && "\($0)".contains("chmod o-w") }
    }

    /// The hand-over side file (`<audit.path>.handover-<pid>`) is opened like the log: a link planted at its
    /// name is refused, and its target is never written.
    @Test func aLinkAtTheHandOverSideFileIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/planted.txt"
        let first = try writer(directory + "/audit.jsonl")
        try FileManager.default.createSymbolicLink(atPath: directory + "/audit.jsonl.handover-\(getpid())", withDestinationPath: target)
        let second = try writer(directory + "/audit.jsonl", takeOver: true)
        submit(second, "b1")
        second.stop()  // waits out its patience, then tries the side file
        first.stop()
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}
