import Foundation
import JustGateApp
import JustGateCore
import JustGateAuditReview
import Logging
import Testing

/// The audit writer's lanes: loops hand records over through buffers of their own, and the writer merges them
/// into one chain. Driven here by plain threads, without a server, so the counts are exact.
@Suite struct AuditWriterLaneTests {
    static let key = Array("lane-test-audit-key-0123456789".utf8)

    @Test func recordsFromManyThreadsAllArriveOnceInOneIntactChainInTheOrderEachThreadSentThem() throws {
        let directory = NSTemporaryDirectory() + "justgate-lanes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try AuditWriter(config: AuditConfig(path: directory + "/audit.jsonl"), key: AuditWriterLaneTests.key,
                                     logger: Logger(label: "test"), inFlightAllowance: 100_000)
        let perThread = 5_000
        // Three threads with a lane each, and two that share the writer's common lane (as the server's own answers do).
        let lanes: [AuditWriter.Lane?] = [writer.makeLane(), writer.makeLane(), writer.makeLane(), nil, nil]
        let group = DispatchGroup()
        for (thread, lane) in lanes.enumerated() {
            DispatchQueue.global().async(group: group) {
                for number in 0..<perThread {
                    var record = AuditRecord(time: "")
                    record.requestID = "t\(thread)-\(number)"
                    record.status = 200
                    record.path = "/api/user/v1/action/"
                    #expect(writer.submit(record, receivedAtMillis: 1_796_000_000_000 + Int64(number), lane: lane))
                }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        writer.stop()
        #expect(!writer.submit(AuditRecord(time: ""), receivedAtMillis: 0), "a record after stop is refused, not lost silently")

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/audit.jsonl")))
        let lines = bytes.split(separator: 0x0A)
        #expect(lines.count == 1 + lanes.count * perThread)
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: AuditWriterLaneTests.key))
        try verifier.beginFile("audit.jsonl")
        var next = [Int](repeating: 0, count: lanes.count)
        for (index, line) in lines.enumerated() {
            try verifier.check(line, line: index + 1, terminated: true)
            let record = try AuditRecordDecoding.decode(line)
            #expect(record.seq == index + 1)
            guard index > 0 else {
                #expect(record.event == .chainStart)
                continue
            }
            let parts = (record.requestID ?? "").dropFirst().split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[0] < lanes.count else {
                Issue.record("unexpected request id \(record.requestID ?? "nil")")
                continue
            }
            #expect(parts[1] == next[parts[0]], "thread \(parts[0])'s records out of order")
            next[parts[0]] = parts[1] + 1
            #expect(record.time == AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(parts[1])))
        }
        try verifier.finish()
        #expect(next == [Int](repeating: perThread, count: lanes.count))
    }

    /// A record larger than a lane's first buffer and than the writer's first scratch for its JSON (every byte
    /// of its note escaped six-fold): both grow, and the record arrives whole between two ordinary ones.
    @Test func aRecordLargerThanTheFirstBuffersArrivesWhole() throws {
        let directory = NSTemporaryDirectory() + "justgate-lanes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try AuditWriter(config: AuditConfig(path: directory + "/audit.jsonl"), key: AuditWriterLaneTests.key,
                                     logger: Logger(label: "test"), inFlightAllowance: 10)
        let lane = writer.makeLane()
        var large = AuditRecord(time: "")
        large.requestID = "large"
        large.note = String(repeating: "\u{1}\"кириллица\\", count: 600)
        large.errors = (0..<50).map { AuditFieldError(field: "tags[\($0)]", code: "invalid_tag") }
        for (index, id) in ["before", "large", "after"].enumerated() {
            var record = id == "large" ? large : AuditRecord(time: "")
            record.requestID = id
            #expect(writer.submit(record, receivedAtMillis: 1_796_000_000_000 + Int64(index), lane: lane))
        }
        writer.stop()

        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/audit.jsonl")))
        let lines = bytes.split(separator: 0x0A)
        #expect(lines.count == 4)
        #expect(lines.map(\.count).max() ?? 0 > 8192, "the test is meant to pass the first scratch's size")
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: AuditWriterLaneTests.key))
        try verifier.beginFile("audit.jsonl")
        var records: [AuditRecord] = []
        for (index, line) in lines.enumerated() {
            try verifier.check(line, line: index + 1, terminated: true)
            records.append(try AuditRecordDecoding.decode(line))
        }
        try verifier.finish()
        #expect(records.dropFirst().map(\.requestID) == ["before", "large", "after"])
        #expect(records[2].note == large.note)
        #expect(records[2].errors == large.errors)
    }
}
