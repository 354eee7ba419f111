#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// The outbox's writer when the disk is full (a real small tmpfs, mounted for the test; skipped where the
/// test may not mount, as without root): state changes already applied in memory are written once there is
/// room again instead of being lost, and a refused deferral never reaches the disk.
@Suite(.serialized)
struct OutboxWriteFailureTests {
    /// Mounts a tmpfs of `kilobytes` at a fresh directory; nil where mounting is not allowed.
    static func mountSmallDisk(kilobytes: Int) throws -> URL? {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-full")
        guard getuid() == 0, run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", directory.path]) else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        return directory
    }

    static func unmount(_ directory: URL) {
        _ = run("/bin/umount", [directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Fills the disk holding `path` with one file, until a write fails.
    static func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        defer { _ = close(fd) }
        let chunk = [UInt8](repeating: 0x5A, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, 1) }
        _ = fsync(fd)
    }

    @Test func stateChangesWrittenWhileTheDiskIsFullAreKeptAndARefusedDeferralIsNotReplayed() throws {
        guard let disk = try Self.mountSmallDisk(kilobytes: 1024) else { return }
        defer { Self.unmount(disk) }
        let config = OutboxFileStoreTests.config(disk)
        // No zero-filled room: records written into room prepared before the disk filled up would not fail.
        let store = try OutboxFileStore(config: config, prepareBytes: 0, logger: OutboxFileStoreTests.logger)
        let delivered = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u1")).get()
        let failing = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u2")).get()
        let filler = disk.path + "/filler"
        Self.fill(filler)
        let claimed = store.claimDue(limit: 10)
        #expect(Set(claimed.map(\.id)) == [delivered.id, failing.id])
        // Bodies of 2 KiB make the records larger than what is left of the segment's last page.
        let answer = [UInt8](repeating: 0x61, count: OutboxEntry.maxLastBodyBytes)
        for entry in claimed {
            _ = store.settle(entry, attempt: .answered(status: entry.id == delivered.id ? 200 : 503), body: answer)
        }
        let refused = OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u3", body: String(repeating: "x", count: 8192)))
        guard case .failure(.unavailable) = refused else {
            Issue.record("a deferral on a full disk must be refused, got \(refused)")
            store.stop()
            return
        }
        let cutBack = OutboxEngineHoldTests.outboxBytes(config.path)
        unlink(filler)
        // The writer tries the state changes again on its own (its next round, within a second): waited for by
        // the segment growing, not slept on.
        let grown = Polling.read(timeoutSeconds: 10, until: { $0 > cutBack }) { OutboxEngineHoldTests.outboxBytes(config.path) }
        #expect(grown > cutBack, "the state changes were not written again once the disk had room")
        store.stop()

        let reopened = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { reopened.stop() }
        #expect(reopened.entry(id: delivered.id)?.state == .delivered)
        #expect(reopened.entry(id: failing.id)?.attempts == 1)
        #expect(reopened.depth.pending == 1)
    }
}
