#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// Review leftovers of the outbox's segment files (issue 25 item 5): damage in an older segment is refused, not
/// cut, and compaction does not rewrite a pending set of a segment or more in a loop. Real files each.
@Suite struct OutboxSegmentReviewTests {
    /// Keeps `count` calls, each on a juid of its own, into a store with 2 KiB segments, and stops it.
    static func fill(_ config: OutboxConfig, count: Int) throws -> [String] {
        let store = try OutboxFileStore(config: config, segmentBytes: 2048, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        return try (0..<count).map { index in
            try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u\(index)")).get().id
        }
    }

    @Test func aBadRecordInAnOlderSegmentRefusesStartNamingTheFile() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-damage")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let ids = try Self.fill(config, count: 20)
        let files = OutboxSegmentFiles(directory: config.path)
        let numbers = files.numbers()
        #expect(numbers.count >= 2, "2 KiB segments: 20 entries take several")
        let older = try #require(numbers.first)
        let path = files.path(of: older)
        // One flipped byte inside the first record's payload: its checksum no longer matches.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let size = bytes.count
        bytes[OutboxRecordCodec.headerBytes + 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        do {
            let store = try OutboxFileStore(config: config, segmentBytes: 2048, logger: OutboxFileStoreTests.logger)
            store.stop()
            Issue.record("the outbox opened over a damaged older segment")
        } catch {
            let message = "\(error)"
            #expect(message.contains(path) && message.contains("truncate -s 0 \(path)"), "\(message)")
        }
        // Nothing was cut: the operator decides.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == size)
        #expect(ids.count == 20)
    }

    @Test func compactionDoesNotRewriteAPendingSetOfASegmentOrMoreInALoop() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-loop")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        // About 9 KiB of pending entries against 2 KiB segments.
        let ids = try Self.fill(config, count: 30)
        let store = try OutboxFileStore(config: config, segmentBytes: 2048, logger: OutboxFileStoreTests.logger)
        let files = OutboxSegmentFiles(directory: config.path)
        // The new live segment is begun while the store opens; from then on, with nothing kept, no segment may be
        // added. A fixed window on purpose: it proves that nothing happens for 3.5 s (the writer's first round,
        // which tries compaction at once, and three more; a rewriting loop compacted every second), and it ends
        // early only on a failure.
        let before = files.numbers().last ?? 0
        let after = Polling.read(timeoutSeconds: 3.5, until: { $0 != before }) { files.numbers().last ?? 0 }
        #expect(after == before, "segments \(before) -> \(after) with nothing new kept: compaction is rewriting in a loop")
        store.stop()
        let reopened = try OutboxFileStore(config: config, segmentBytes: 2048, logger: OutboxFileStoreTests.logger)
        defer { reopened.stop() }
        #expect(reopened.depth.pending == 30)
        #expect(ids.allSatisfy { reopened.entry(id: $0)?.state == .pending })
    }

    /// Opening an outbox in `path` fails; the message, or nil when it opened.
    static func refusal(_ config: OutboxConfig) -> String? {
        do {
            let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
            store.stop()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aGroupWritableOutboxDirectoryIsRefused() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-dir")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        #expect(mkdir(config.path, 0o700) == 0 && chmod(config.path, 0o770) == 0)
        let message = Self.refusal(config)
        #expect(message?.contains("writable by group or others (mode 0770)") == true
                && message?.contains("chmod 700 \(config.path)") == true, "\(message ?? "it opened")")
        #expect(chmod(config.path, 0o700) == 0)
        #expect(Self.refusal(config) == nil)
    }

    @Test func anOutboxDirectoryOfAnotherUserIsRefused() throws {
        try #require(geteuid() == 0, "needs root to give the directory to another user")
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-dir")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        #expect(mkdir(config.path, 0o700) == 0 && chown(config.path, 65534, 65534) == 0)
        let message = Self.refusal(config)
        #expect(message?.contains("belongs to uid 65534") == true, "\(message ?? "it opened")")
    }

    /// A FIFO where the newest segment should be: opening it for reading would block the start for good; it is
    /// refused by what was opened (`fstat`), whatever a look at the name said before.
    @Test func aFIFOWhereASegmentShouldBeIsRefusedNotWaitedOn() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        _ = try Self.fill(config, count: 1)
        let files = OutboxSegmentFiles(directory: config.path)
        let path = files.path(of: (files.numbers().last ?? 0) + 1)
        #expect(mkfifo(path, 0o600) == 0)
        let message = Self.refusal(config)
        #expect(message?.contains("\(path) is not a regular file") == true, "\(message ?? "it opened")")
    }
}
