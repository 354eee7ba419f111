import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// Stopping the outbox: a change after the writer's last batch would be applied in memory and never written,
/// so the memory and the disk would disagree after a restart; it is refused instead.
@Suite struct OutboxStopTests {
    @Test func changesAfterStopAreRefusedAndEveryStopCallerReturns() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let kept = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u1")).get()
        let other = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u2")).get()
        let claimed = store.claimDue(limit: 10)
        store.stop()
        store.stop()   // a second caller also returns once the writer is done
        #expect(store.drop(id: kept.id) == false)
        for entry in claimed { _ = store.settle(entry, attempt: .answered(status: 200)) }
        #expect(store.entry(id: kept.id)?.state == .pending)
        #expect(store.entry(id: other.id)?.state == .pending)

        let reopened = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { reopened.stop() }
        #expect(reopened.depth.pending == 2)
    }
}

/// A record larger than replay accepts would be acknowledged and then cut away at the next start.
@Suite struct OutboxRecordBoundTests {
    @Test func aCallTooLargeForOneRecordIsRefusedNotAcknowledged() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try OutboxFileStore(config: OutboxFileStoreTests.config(directory), logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        let huge = String(repeating: "x", count: OutboxRecordCodec.maxPayloadBytes + 1)
        guard case .failure(.unavailable(let reason)) = OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u1", body: huge)) else {
            Issue.record("a call larger than a record may be must be refused")
            return
        }
        #expect(reason.contains("too large"))
        #expect(store.depth.pending == 0 && store.depth.bytes == 0)
    }
}
