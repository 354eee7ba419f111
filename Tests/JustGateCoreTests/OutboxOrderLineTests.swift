import Testing
@testable import JustGateCore

/// One order key's line of pending ids (issue 25 review): the head is taken without shifting the rest, a newer
/// entry is appended, an older one (replayed, carried) goes in its place, and the queue's counts follow.
@Suite struct OutboxOrderLineTests {
    @Test func theLineKeepsSequenceOrderWhateverTheOrderOfInsertion() {
        let sequences: [String: UInt64] = ["a": 1, "b": 2, "c": 3, "d": 4]
        var line = OutboxOrderLine()
        for id in ["b", "d", "a", "c"] { line.insert(id, sequence: sequences[id] ?? 0) { sequences[$0] ?? 0 } }
        #expect(Array(line.all) == ["a", "b", "c", "d"])
        #expect(line.remove("a") == (true, true) && line.first == "b")
        #expect(line.remove("c") == (true, false) && Array(line.all) == ["b", "d"])
        #expect(line.remove("x") == (false, false))
        line.insert("a", sequence: 1) { sequences[$0] ?? 0 }
        #expect(Array(line.all) == ["a", "b", "d"] && line.count == 3)
    }

    @Test func takingHeadsOneByOneEmptiesALongLineInOrder() {
        var line = OutboxOrderLine()
        for index in 0..<1000 { line.insert("e\(index)", sequence: UInt64(index)) { _ in 0 } }
        var taken: [String] = []
        while let head = line.first {
            #expect(line.remove(head).wasHead)
            taken.append(head)
        }
        #expect(taken == (0..<1000).map { "e\($0)" } && line.isEmpty && line.count == 0)
    }

    @Test func theQueueCountsPendingAndDeadPerSiteAsEntriesChange() {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        for (index, juid) in ["j1", "j1", "j2"].enumerated() {
            try? queue.admit(OutboxCoreTests.entry("e\(index)", sequence: UInt64(index + 1), juid: juid, createdAtMs: Int64(100 + index)),
                             durable: true)
        }
        try? queue.admit(OutboxCoreTests.entry("o", sequence: 9, site: "other", createdAtMs: 50), durable: true)
        #expect(queue.pendingCount == 4)
        let claimed = queue.claimDue(nowMs: 1000, limit: 10)
        #expect(claimed.map(\.id).sorted() == ["e0", "e2", "o"])
        queue.apply(OutboxUpdate(id: "e0", state: .dead, attempts: 1, nextAttemptAtMs: 0, lastStatus: 404, lastBody: [],
                                 lastFailure: nil))
        queue.apply(OutboxUpdate(id: "e2", state: .delivered, attempts: 1, nextAttemptAtMs: 0, lastStatus: 200, lastBody: [],
                                 lastFailure: nil))
        #expect(queue.pendingCount == 2)
        let readings = queue.siteReadings()
        #expect(readings["s"]?.pending == 1 && readings["s"]?.dead == 1 && readings["s"]?.oldestCreatedAtMs == 101)
        #expect(readings["other"]?.pending == 1 && readings["other"]?.oldestCreatedAtMs == 50)
        queue.drop(id: "e0")
        #expect(queue.siteReadings()["s"]?.dead == 0)
    }
}
