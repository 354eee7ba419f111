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
