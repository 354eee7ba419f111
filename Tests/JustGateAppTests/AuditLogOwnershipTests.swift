import Foundation
import JustGateApp
import JustGateCore
import JustGateAuditReview
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

    func records(_ directory: String, file: String = "audit.jsonl") throws -> [AuditRecord] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: AuditLogOwnershipTests.key))
        try verifier.beginFile(file)
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
        // Once the first has written its records, the second's are still waiting for the log.
        let written = Polling.read(timeoutSeconds: 5, until: { $0.contains("\"a2\"") }) {
            (try? String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)) ?? ""
        }
        #expect(written.contains("\"a2\""))
        usleep(250_000)  // a few more chances for the second to look for the log, and to be refused
        #expect(!((try? String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)) ?? "").contains("\"b1\""))
        submit(first, ["a3"])
        first.stop()
        submit(second, ["b3"])
        second.stop()
        let ids = try records(directory).compactMap(\.requestID)
        #expect(ids == ["a1", "a2", "a3", "b1", "b2", "b3"])
    }

    /// A hand-over called off (the new process stopped while the old one still runs): the requests the new one
    /// answered keep their records, in a file of their own beside the log; the log itself is the old one's alone.
    @Test func aTakeOverStoppedBeforeTheLogIsFreeWritesItsRecordsBesideIt() throws {
        let directory = NSTemporaryDirectory() + "justgate-owner-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try writer(directory)
        let idle = try writer(directory, takeOver: true)
        idle.stop()  // nothing queued: it ends at once and writes nothing anywhere
        let second = try writer(directory, takeOver: true)
        submit(second, ["b1", "b2"])
        second.stop()  // waits a while for the log, then writes beside it
        submit(first, ["a1"])
        first.stop()
        #expect(try records(directory).compactMap(\.requestID) == ["a1"])
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        let beside = files.filter { $0.hasPrefix("audit.jsonl.handover-") && !$0.hasSuffix(".lock") }
        #expect(beside.count == 1, "\(files)")
        let diverted = try records(directory, file: try #require(beside.first))
        #expect(diverted.compactMap(\.requestID) == ["b1", "b2"])
        #expect(diverted.first?.event == .chainStart)
        #expect(diverted.first?.note?.contains("stopped before the replaced process let go") == true)
    }
}
