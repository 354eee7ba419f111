import Testing
@testable import JustGateCore

/// The outbox's pure core: the delivery verdict, the queue's order per site and juid, its bound, and the record
/// framing (issue 25). No files, no sockets, no clock: times are plain numbers.
@Suite struct OutboxCoreTests {
    /// A fixed "random" source: always the middle of the range, so jittered waits are the configured ones.
    struct Middle: RandomNumberGenerator {
        mutating func next() -> UInt64 { UInt64.max / 2 }
    }

    static func entry(_ id: String, sequence: UInt64, site: String = "s", juid: String = "j",
                      body: [UInt8] = Array("email=a%40b.c".utf8), createdAtMs: Int64 = 0) -> OutboxEntry {
        OutboxEntry(id: id, sequence: sequence, siteID: site, operationID: "subscribe.email", juid: juid, method: "POST",
                    target: "/api/user/v1/subscription/subscribe/email", body: body,
                    contentType: "application/x-www-form-urlencoded", requestID: "req-\(id)", createdAtMs: createdAtMs)
    }

    // MARK: Verdict

    static let policy = DeliveryPolicy(retryMs: [1000, 5000, 60000], maxAgeMs: 100_000, jitterPercent: 10)

    @Test(arguments: [
        (DeliveryAttempt.answered(status: 200), 1, Int64(0), DeliveryVerdict.delivered),
        (.answered(status: 201), 3, 0, .delivered),
        (.answered(status: 400), 1, 0, .dead),
        (.answered(status: 404), 1, 0, .dead),
        (.answered(status: 409), 1, 0, .dead),
        (.answered(status: 408), 1, 0, .retry(atMs: 1000)),
        (.answered(status: 429), 2, 0, .retry(atMs: 5000)),
        (.answered(status: 500), 3, 0, .retry(atMs: 60000)),
        (.answered(status: 503), 9, 0, .retry(atMs: 60000)),        // the last wait repeats
        (.failed(reason: "connect_refused"), 1, 10, .retry(atMs: 1010)),
        (.failed(reason: "timeout_after_sending"), 2, 10, .retry(atMs: 5010)),
        (.held(reason: "circuit_open", retryAfterMs: 700), 0, 10, .retry(atMs: 710)),
        (.held(reason: "over_max_in_flight", retryAfterMs: nil), 0, 10, .retry(atMs: 1010)),
        (.failed(reason: "connect_refused"), 3, 99_000, .retry(atMs: 100_000)),   // the last try at the age limit
        (.failed(reason: "connect_refused"), 4, 100_000, .dead),                  // past max_age: dead
        (.answered(status: 200), 4, 200_000, .delivered),                          // an answer is kept even late
        // A hold is no attempt: at or past max_age the entry still gets its last real try.
        (.held(reason: "circuit_open", retryAfterMs: 700), 2, 100_000, .retry(atMs: 100_700)),
        (.held(reason: "over_max_in_flight", retryAfterMs: nil), 2, 150_000, .retry(atMs: 151_000)),
    ])
    func verdict(_ attempt: DeliveryAttempt, _ attempts: Int, _ now: Int64, _ expected: DeliveryVerdict) {
        var random = Middle()
        #expect(Self.policy.verdict(after: attempt, attemptsMade: attempts, createdAtMs: 0, nowMs: now,
                                    using: &random) == expected)
    }

    @Test func jitterStaysWithinTenPercent() {
        var random = SystemRandomNumberGenerator()
        let waits = (0..<2000).map { _ in Self.policy.jittered(10_000, using: &random) }
        #expect(waits.allSatisfy { (9000...11000).contains($0) })
        #expect(Set(waits).count > 100)
    }

    // MARK: Queue

    /// The operator's listing: the `limit` oldest entries in the asked state, oldest first, from entries
    /// admitted in any order, whatever else the outbox holds (checked against a full sort).
    @Test(arguments: [0, 1, 7, 50, 500])
    func aListingIsTheOldestEntriesOfItsStateOldestFirst(limit: Int) throws {
        var queue = OutboxQueue(maxBytes: 1 << 24)
        var generator = SystemRandomNumberGenerator()
        let sequences = (1...300).map { UInt64($0) }.shuffled(using: &generator)
        for sequence in sequences {
            try queue.admit(Self.entry("e\(sequence)", sequence: sequence, site: sequence % 7 == 0 ? "other" : "s",
                                       juid: "j\(sequence % 40)"), durable: true)
        }
        for sequence in sequences where sequence % 3 == 0 {
            queue.apply(OutboxUpdate(id: "e\(sequence)", state: .dead, attempts: 1, nextAttemptAtMs: 0, lastStatus: 404))
        }
        for state in [OutboxEntry.State.pending, .dead] {
            let expected = queue.entries.values.filter { $0.state == state }.map(\.sequence).sorted().prefix(limit)
            #expect(queue.list(state: state, limit: limit).map(\.sequence) == Array(expected))
        }
        #expect(queue.list(state: .delivered, limit: limit).isEmpty)
        let ofOneSite = queue.entries.values.filter { $0.state == .pending && $0.siteID == "other" }.map(\.sequence).sorted()
        #expect(queue.list(state: .pending, site: "other", limit: limit).map(\.sequence) == Array(ofOneSite.prefix(limit)))
    }

    @Test func onlyTheOldestPendingEntryOfAKeyIsDue() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("a1", sequence: 1), durable: true)
        try queue.admit(Self.entry("a2", sequence: 2), durable: true)
        try queue.admit(Self.entry("b1", sequence: 3, juid: "other"), durable: true)
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a1", "b1"])
        #expect(queue.claimDue(nowMs: 0, limit: 10).isEmpty)   // claimed entries are not handed out twice
        // a1 fails and waits: a2 still waits behind it, even though a2's own time has come.
        queue.apply(OutboxUpdate(id: "a1", state: .pending, attempts: 1, nextAttemptAtMs: 500))
        #expect(queue.claimDue(nowMs: 100, limit: 10).isEmpty)
        #expect(queue.nextDueAtMs() == 500)
        #expect(queue.claimDue(nowMs: 500, limit: 10).map(\.id) == ["a1"])
        queue.apply(OutboxUpdate(id: "a1", state: .delivered, attempts: 2, nextAttemptAtMs: 500))
        #expect(queue.claimDue(nowMs: 500, limit: 10).map(\.id) == ["a2"])
        #expect(queue.entry(id: "a1")?.state == .delivered && queue.entry(id: "a1")?.body == [])
    }

    @Test func aDeadEntryLetsTheNextOfItsKeyGo() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("a1", sequence: 1), durable: true)
        try queue.admit(Self.entry("a2", sequence: 2), durable: true)
        _ = queue.claimDue(nowMs: 0, limit: 1)
        queue.apply(OutboxUpdate(id: "a1", state: .dead, attempts: 1, nextAttemptAtMs: 0, lastStatus: 404))
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a2"])
        #expect(queue.hasPending(OutboxOrderKey(siteID: "s", juid: "j")))
    }

    /// An operator's retry puts an older dead entry back ahead of a newer one of its juid; while the newer
    /// one is in flight the older must wait, or one site and juid has two calls under way at once.
    @Test func aRetriedEntryWaitsWhileANewerOneOfItsKeyIsInFlight() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("a1", sequence: 1), durable: true)
        try queue.admit(Self.entry("a2", sequence: 2), durable: true)
        _ = queue.claimDue(nowMs: 0, limit: 1)
        queue.apply(OutboxUpdate(id: "a1", state: .dead, attempts: 1, nextAttemptAtMs: 0, lastStatus: 404))
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a2"])
        queue.apply(OutboxUpdate(id: "a1", state: .pending, attempts: 1, nextAttemptAtMs: 0))   // the retry
        #expect(queue.claimDue(nowMs: 0, limit: 10).isEmpty)
        // a2 fails and waits: a1, older, goes first (the retry keeps its place by sequence).
        queue.apply(OutboxUpdate(id: "a2", state: .pending, attempts: 1, nextAttemptAtMs: 50))
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a1"])
        queue.unclaim(id: "a1")
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a1"])
    }

    /// `utm.update` has no juid: its entries are ordered with no other, so they drain in parallel and a live
    /// `utm.update` does not wait behind a pending one.
    @Test func entriesWithoutAJuidAreNotOrdered() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("u1", sequence: 1, juid: ""), durable: true)
        try queue.admit(Self.entry("u2", sequence: 2, juid: ""), durable: true)
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id).sorted() == ["u1", "u2"])
        #expect(!queue.hasPending(OutboxOrderKey(siteID: "s", juid: "")))
    }

    @Test func anEntryIsNotDueBeforeItIsDurableButHoldsItsPlace() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("a1", sequence: 1), durable: false)
        try queue.admit(Self.entry("a2", sequence: 2), durable: true)
        #expect(queue.hasPending(OutboxOrderKey(siteID: "s", juid: "j")))
        #expect(queue.claimDue(nowMs: 0, limit: 10).isEmpty)
        queue.confirm(id: "a1")
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a1"])
    }

    @Test func aDroppedUnwrittenEntryFreesItsKey() throws {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        try queue.admit(Self.entry("a1", sequence: 1), durable: false)
        try queue.admit(Self.entry("a2", sequence: 2), durable: true)
        queue.drop(id: "a1")
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["a2"])
        queue.apply(OutboxUpdate(id: "a2", state: .delivered, attempts: 1, nextAttemptAtMs: 0))
        #expect(!queue.hasPending(OutboxOrderKey(siteID: "s", juid: "j")))
    }

    @Test func restoredEntriesAreOrderedBySequenceNotByReplayOrder() {
        var queue = OutboxQueue(maxBytes: 1 << 20)
        queue.restore(Self.entry("late", sequence: 7))
        queue.restore(Self.entry("early", sequence: 3))   // carried forward by compaction: written later
        #expect(queue.claimDue(nowMs: 0, limit: 10).map(\.id) == ["early"])
        #expect(queue.nextSequence == 8)
    }

    @Test func aFullQueueRefusesAndFinishedEntriesMakeRoom() throws {
        let one = Self.entry("x", sequence: 1, body: Array(repeating: 0x61, count: 1000)).accountedBytes
        var queue = OutboxQueue(maxBytes: one * 2)
        try queue.admit(Self.entry("a", sequence: 1, body: Array(repeating: 0x61, count: 1000)), durable: true)
        try queue.admit(Self.entry("b", sequence: 2, juid: "k", body: Array(repeating: 0x61, count: 1000)), durable: true)
        #expect(throws: OutboxQueue.Full(maxBytes: one * 2)) {
            try queue.admit(Self.entry("c", sequence: 3, body: Array(repeating: 0x61, count: 1000)), durable: true)
        }
        queue.apply(OutboxUpdate(id: "a", state: .delivered, attempts: 1, nextAttemptAtMs: 0))
        try queue.admit(Self.entry("c", sequence: 3, body: Array(repeating: 0x61, count: 1000)), durable: true)
        #expect(queue.accountedBytes == one * 2)
    }

    @Test func deliveredEntriesAreForgottenPastTheirBound() {
        var queue = OutboxQueue(maxBytes: 1 << 20, keepDelivered: 2)
        for index in 1...3 {
            var entry = Self.entry("d\(index)", sequence: UInt64(index), juid: "j\(index)")
            entry.state = .delivered
            queue.restore(entry)
        }
        #expect(queue.entry(id: "d1") == nil && queue.entry(id: "d2") != nil && queue.entry(id: "d3") != nil)
    }

    @Test func manyKeysComeDueInTimeOrder() throws {
        var queue = OutboxQueue(maxBytes: 1 << 30)
        for index in 0..<500 {
            var entry = Self.entry("e\(index)", sequence: UInt64(index + 1), juid: "j\(index)")
            entry.nextAttemptAtMs = Int64((index * 7919) % 500)
            try queue.admit(entry, durable: true)
        }
        let due = queue.claimDue(nowMs: 1000, limit: 1000).map { queue.entry(id: $0.id)?.nextAttemptAtMs ?? -1 }
        #expect(due.count == 500 && due == due.sorted())
    }

    // MARK: Records

    @Test func recordsRoundTrip() {
        var full = Self.entry("a1", sequence: 42, createdAtMs: 1_765_000_000_000)
        full.apply(OutboxUpdate(id: "a1", state: .pending, attempts: 3, nextAttemptAtMs: 1_765_000_030_000,
                                lastStatus: 503, lastBody: Array("busy".utf8), lastFailure: nil))
        full.contentType = nil
        let records: [OutboxRecord] = [
            .entry(Self.entry("a0", sequence: 1)), .entry(full),
            .update(OutboxUpdate(id: "a1", state: .dead, attempts: 4, nextAttemptAtMs: -1, lastFailure: "max_age")),
            .dropped(id: "a0"),
        ]
        var bytes: [UInt8] = []
        for record in records { OutboxRecordCodec.append(record, to: &bytes) }
        let decoded = OutboxRecordCodec.decode(bytes)
        #expect(decoded.records == records && decoded.validBytes == bytes.count)
    }

    @Test func aTornOrDamagedTailIsCutAtTheLastWholeRecord() {
        var bytes: [UInt8] = []
        OutboxRecordCodec.append(.entry(Self.entry("a1", sequence: 1)), to: &bytes)
        let whole = bytes.count
        OutboxRecordCodec.append(.entry(Self.entry("a2", sequence: 2)), to: &bytes)
        for cut in [whole + 1, whole + 7, whole + 8, bytes.count - 1] {
            let decoded = OutboxRecordCodec.decode(Array(bytes[..<cut]))
            #expect(decoded.records.map(\.id) == ["a1"] && decoded.validBytes == whole)
        }
        var flipped = bytes
        flipped[bytes.count - 3] ^= 0x40
        #expect(OutboxRecordCodec.decode(flipped).validBytes == whole)
        var zeroed = bytes
        for index in whole..<bytes.count { zeroed[index] = 0 }   // a power cut's unwritten, zero-filled sectors
        #expect(OutboxRecordCodec.decode(zeroed).validBytes == whole)
    }

    /// The file backend writes records into a zero-filled segment: zeros after the records end them, however
    /// many, and never read as a record (an all-zero header would be an empty payload with CRC-32 0, which is
    /// no record: every payload starts with its kind, never 0).
    @Test func zerosAfterTheRecordsEndThem() {
        var bytes: [UInt8] = []
        OutboxRecordCodec.append(.entry(Self.entry("a1", sequence: 1)), to: &bytes)
        OutboxRecordCodec.append(.dropped(id: "a1"), to: &bytes)
        let whole = bytes.count
        for zeros in [1, 7, 8, 9, 4096] {
            let decoded = OutboxRecordCodec.decode(bytes + [UInt8](repeating: 0, count: zeros))
            #expect(decoded.records.map(\.id) == ["a1", "a1"] && decoded.validBytes == whole)
        }
        #expect(OutboxRecordCodec.decode([UInt8](repeating: 0, count: 4096)).validBytes == 0)
        #expect(CRC32.checksum([UInt8]()) == 0, "an all-zero header's checksum matches an empty payload")
    }
}
