#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import JustGateApp
import JustGateCore
import Logging
import Synchronization
import Testing
import XCTest

/// The outbox's file backend (issue 25 item 5): what was acknowledged is there after a reopen, a torn tail, a
/// `kill -9` mid-append; the bound; compaction; file modes. Real files in a fresh directory each.
@Suite struct OutboxFileStoreTests {
    static let logger = Logger(label: "outbox-test")

    static func config(_ directory: URL, maxBytes: Int = 1 << 30) -> OutboxConfig {
        var config = OutboxConfig()
        config.path = directory.appendingPathComponent("outbox").path
        config.maxBytes = maxBytes
        config.retryMs = [50]
        return config
    }

    static func call(_ juid: String, body: String = "email=a%40b.c&juid=x", site: String = "s") -> DeferredCall {
        DeferredCall(siteID: site, operationID: "subscribe.email", juid: juid, method: "POST",
                     target: "/api/user/v1/subscription/subscribe/email", body: Array(body.utf8),
                     contentType: "application/x-www-form-urlencoded", requestID: "req-\(juid)")
    }

    /// Keeps a call and waits for its completion (which runs on the writer thread).
    static func keep(_ store: OutboxFileStore, _ call: DeferredCall) -> Result<OutboxEntry, OutboxRefusal> {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<OutboxEntry, OutboxRefusal>?>(nil)
        store.keep(call) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
        return result.withLock { $0 } ?? .failure(.unavailable("no completion within 10 s"))
    }

    @Test func acknowledgedEntriesAndTheirStatesSurviveAReopen() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try OutboxFileStore(config: Self.config(directory), logger: Self.logger)
        let first = try Self.keep(store, Self.call("u1")).get()
        let second = try Self.keep(store, Self.call("u1", body: "later")).get()
        let other = try Self.keep(store, Self.call("u2")).get()
        let claimed = store.claimDue(limit: 10)
        #expect(claimed.map(\.id) == [first.id, other.id])   // second waits behind first (same juid)
        _ = store.settle(claimed[1], attempt: .answered(status: 200), body: Array("{\"ok\":1}".utf8))
        _ = store.settle(claimed[0], attempt: .answered(status: 503), body: Array("busy".utf8))
        store.stop()

        let reopened = try OutboxFileStore(config: Self.config(directory), logger: Self.logger)
        defer { reopened.stop() }
        #expect(reopened.entry(id: other.id)?.state == .delivered)
        let failed = try #require(reopened.entry(id: first.id))
        #expect(failed.state == .pending && failed.attempts == 1 && failed.lastStatus == 503
                && failed.lastBody == Array("busy".utf8))
        #expect(reopened.entry(id: second.id)?.body == Array("later".utf8))
        #expect(reopened.hasPending(siteID: "s", juid: "u1") && !reopened.hasPending(siteID: "s", juid: "u2"))
        let fresh = try Self.keep(reopened, Self.call("u3")).get()
        #expect(fresh.sequence > second.sequence)
    }

    @Test func aTornTailIsCutAndWhatFollowsItIsReadable() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = Self.config(directory)
        let store = try OutboxFileStore(config: config, logger: Self.logger)
        let kept = try Self.keep(store, Self.call("u1")).get()
        store.stop()
        let files = OutboxSegmentFiles(directory: config.path)
        let last = try #require(files.numbers().last)
        let path = files.path(of: last)
        let whole = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // Half a record, as a crash mid-write leaves it.
        var torn: [UInt8] = []
        OutboxRecordCodec.append(.entry(OutboxEntry(id: "torn", sequence: 99, siteID: "s", operationID: "x", juid: "t",
                                                    method: "POST", target: "/", body: [1, 2, 3], contentType: nil,
                                                    requestID: "r", createdAtMs: 0)), to: &torn)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(torn.prefix(torn.count / 2)))
        try handle.close()

        let reopened = try OutboxFileStore(config: config, logger: Self.logger)
        #expect(reopened.entry(id: kept.id) != nil && reopened.entry(id: "torn") == nil)
        let after = try Self.keep(reopened, Self.call("u2")).get()
        reopened.stop()
        if FileManager.default.fileExists(atPath: path) {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == whole)
        }
        let third = try OutboxFileStore(config: config, logger: Self.logger)
        defer { third.stop() }
        #expect(third.entry(id: kept.id) != nil && third.entry(id: after.id) != nil)
    }

    @Test func aFullOutboxRefusesAndSaysSo() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try OutboxFileStore(config: Self.config(directory, maxBytes: 65_536), logger: Self.logger)
        defer { store.stop() }
        let big = String(repeating: "a", count: 30_000)
        #expect(throws: Never.self) { try Self.keep(store, Self.call("u1", body: big)).get() }
        #expect(throws: Never.self) { try Self.keep(store, Self.call("u2", body: big)).get() }
        let refused = Self.keep(store, Self.call("u3", body: big))
        #expect(refused == .failure(.full(maxBytes: 65_536)))
        #expect(OutboxRefusal.full(maxBytes: 65_536).description.contains("outbox.max_bytes"))
        #expect(!store.hasPending(siteID: "s", juid: "u3"))
    }

    @Test func compactionDeletesFinishedSegmentsAndCarriesPendingEntriesForward() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = Self.config(directory)
        let store = try OutboxFileStore(config: config, segmentBytes: 2048, logger: Self.logger)
        let keeper = try Self.keep(store, Self.call("keeper")).get()
        var delivered: [String] = []
        for index in 0..<60 {
            let entry = try Self.keep(store, Self.call("u\(index)")).get()
            delivered.append(entry.id)
        }
        for entry in store.claimDue(limit: 100) where entry.id != keeper.id {
            _ = store.settle(entry, attempt: .answered(status: 200))
        }
        let files = OutboxSegmentFiles(directory: config.path)
        let segments = Polling.read(timeoutSeconds: 10, until: { $0.count <= 2 }) { files.numbers() }
        #expect(segments.count <= 2)
        store.stop()
        let reopened = try OutboxFileStore(config: config, segmentBytes: 2048, logger: Self.logger)
        defer { reopened.stop() }
        #expect(reopened.entry(id: keeper.id)?.state == .pending)
        #expect(reopened.hasPending(siteID: "s", juid: "keeper"))
        #expect(reopened.depth.pending == 1)
    }

    @Test func filesAreTheGatewaysOwn() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = Self.config(directory)
        let store = try OutboxFileStore(config: config, logger: Self.logger)
        _ = Self.keep(store, Self.call("u1"))
        #expect(throws: GatewayStartError.self) { try OutboxFileStore(config: config, logger: Self.logger) }
        store.stop()
        var info = stat()
        #expect(stat(config.path, &info) == 0 && info.st_mode & 0o777 == 0o700)
        for number in OutboxSegmentFiles(directory: config.path).numbers() {
            #expect(stat(OutboxSegmentFiles(directory: config.path).path(of: number), &info) == 0
                    && info.st_mode & 0o777 == 0o600)
        }
    }

    /// A child process appends as fast as it can and prints each id once its completion says it is durable;
    /// it is killed with SIGKILL mid-stream, and every id it printed is in the outbox after reopening.
    @Test func everythingAcknowledgedSurvivesKill9() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let testBinary = CommandLineTests.repositoryRoot.appendingPathComponent(".build/debug/justgatePackageTests.xctest")
        var environment = ProcessInfo.processInfo.environment
        environment[OutboxCrashChild.directoryVariable] = directory.path
        let child = try ChildProcess(testBinary.path, ["JustGateAppTests.OutboxCrashChild/testAppendUntilKilled"],
                                     environment: environment)
        let early = child.readStdout(until: "ack 2000 ", timeoutSeconds: 60)
        child.signal(SIGKILL)
        let late = child.readToEnd().stdout
        #expect(child.wait() == 128 + SIGKILL)
        let acknowledged = (early + late).split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: " ")
            return parts.count == 3 && parts[0] == "ack" ? String(parts[2]) : nil
        }
        #expect(acknowledged.count >= 2000)
        let store = try OutboxFileStore(config: Self.config(directory), logger: Self.logger)
        defer { store.stop() }
        let missing = acknowledged.filter { store.entry(id: $0) == nil }
        #expect(missing.count == 0, "\(missing.count) of \(acknowledged.count) acknowledged ids lost, e.g. \(missing.prefix(3))")
        // The killed child's segment ended in its zero-filled room (or a torn record): cut to its records.
        let files = OutboxSegmentFiles(directory: Self.config(directory).path)
        for number in files.numbers().dropLast() {
            let bytes = try files.read(number)
            #expect(OutboxRecordCodec.decode(bytes).validBytes == bytes.count, "segment \(number) still has a tail")
        }
    }
}

/// The child of `everythingAcknowledgedSurvivesKill9`: runs only when the parent sets the variable (an XCTest
/// case, so the parent can name it on the test binary's command line). Keeps 64 calls in flight, forever.
final class OutboxCrashChild: XCTestCase {
    static let directoryVariable = "JG_OUTBOX_CRASH_CHILD_DIR"

    func testAppendUntilKilled() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.directoryVariable] else { return }
        let store = try OutboxFileStore(config: OutboxFileStoreTests.config(URL(fileURLWithPath: path)),
                                        logger: OutboxFileStoreTests.logger)
        let counter = Atomic(0)
        let slots = DispatchSemaphore(value: 64)
        for index in 0..<10_000_000 {
            slots.wait()
            store.keep(OutboxFileStoreTests.call("u\(index % 997)")) { result in
                if case .success(let entry) = result {
                    let line = "ack \(counter.add(1, ordering: .relaxed).newValue) \(entry.id)\n"
                    _ = line.withCString { write(1, $0, strlen($0)) }
                }
                slots.signal()
            }
        }
    }
}
