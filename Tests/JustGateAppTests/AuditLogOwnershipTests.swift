import Foundation
import JustGateApp
import JustGateCore
import Logging
import Testing

/// One writer per audit log: a second one would interleave a second chain into the file. A second writer is
/// refused with a message that says what to do, unless it takes the log over (`serve --replace`), in which case
/// its records wait until the first lets go and then continue the first one's chain.
@Suite struct AuditLogOwnershipTests {
    static let key = Array("ownership-test-audit-key-0123".utf8)

    func writer(_ directory: String, takeOver: Bool = false) throws -> AuditWriter {
        try AuditWriter(config: AuditConfig(path: directory + "/audit.jsonl"), key: AuditLogOwnershipTests.key,
                        logger: Logger(label: "test"), inFlightAllowance: 10, takeOver: takeOver)
    }

    func submit(_ writer: AuditWriter, _ ids: [String]) {
        for id in ids {
            var record = AuditRecord(time: "")
            record.requestID = id
            #expect(writer.submit(record, receivedAtMillis: 1_796_000_000_000))
        }
    }

    func records(_ directory: String) throws -> [AuditRecord] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/audit.jsonl")))
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: AuditLogOwnershipTests.key))
        try verifier.beginFile("audit.jsonl")
        var records: [AuditRecord] = []
        for (index, line) in bytes.split(separator: 0x0A).enumerated() {
            try verifier.check(line, line: index + 1, terminated: true)
            records.append(try AuditRecordDecoding.decode(line))
        }
        try verifier.finish()
        return records
    }

    @Test func aSecondWriterOnTheSameLogIsRefusedNamingTheLockAndTheWayOut() throws {
        let directory = NSTemporaryDirectory() + "justgate-owner-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory)
        #expect {
            _ = try writer(directory)
        } throws: { error in
            let text = "\(error)"
            return text.contains("being written by another running justgate") && text.contains("audit.jsonl.lock")
                && text.contains("--replace")
        }
        submit(first, ["one"])
        first.stop()
        // Once the first lets go, the log is free again, and the chain goes on.
        let next = try writer(directory)
        submit(next, ["two"])
        next.stop()
        #expect(try records(directory).compactMap(\.requestID) == ["one", "two"])
    }

    @Test func aWriterTakingOverQueuesUntilTheFirstStopsThenContinuesItsChain() throws {
        let directory = NSTemporaryDirectory() + "justgate-owner-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory)
        submit(first, ["a1", "a2"])
        let second = try writer(directory, takeOver: true)
        #expect(second.startupNotices.contains { $0.contains("held by the process being replaced") })
        #expect(second.hasRoom(), "requests are admitted while their records wait for the log")
        submit(second, ["b1", "b2"])
        usleep(300_000)  // the second looks for the log every 100 ms: it must not have written yet
        submit(first, ["a3"])
        first.stop()
        submit(second, ["b3"])
        second.stop()
        let ids = try records(directory).compactMap(\.requestID)
        #expect(ids == ["a1", "a2", "a3", "b1", "b2", "b3"])
    }

    @Test func aWriterTakingOverThatIsStoppedFirstLetsGoWithoutWriting() throws {
        let directory = NSTemporaryDirectory() + "justgate-owner-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory)
        let second = try writer(directory, takeOver: true)
        second.stop()  // nothing queued: it ends at once, and never touched the file
        submit(first, ["a1"])
        first.stop()
        #expect(try records(directory).compactMap(\.requestID) == ["a1"])
    }
}
