#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import JustGateApp
import JustGateCore
import Synchronization
import Testing

/// A hand-over (`serve --replace`) with an outbox: the new process serves at once and opens the outbox when the
/// old one lets go of it as its stop begins; nothing the old one kept is lost, order per juid holds, and the
/// wait is bounded. Real files and real `flock`s (two stores in one process lock each other out like two
/// processes), and real `justgate serve` processes where a process matters.
@Suite(.serialized)
struct OutboxTakeOverTests {
    let cli = CommandLineTests()

    /// A deferral whose completion has not necessarily run yet.
    final class PendingKeep: Sendable {
        let done = DispatchSemaphore(value: 0)
        private let box = Mutex<Result<OutboxEntry, OutboxRefusal>?>(nil)
        var result: Result<OutboxEntry, OutboxRefusal>? { box.withLock { $0 } }
        func finish(_ outcome: Result<OutboxEntry, OutboxRefusal>) {
            box.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Keeps `call` without waiting for its completion.
    static func keepLater(_ store: OutboxFileStore, _ call: DeferredCall) -> PendingKeep {
        let pending = PendingKeep()
        store.keep(call) { pending.finish($0) }
        return pending
    }

    @Test func withoutReplaceAHeldOutboxIsRefusedWithWhatToDo() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-takeover")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let owner = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { owner.stop() }
        #expect(throws: (any Error).self) { try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger) }
        do {
            _ = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        } catch {
            #expect("\(error)".contains("--replace"))
        }
    }

    @Test func aTakeOverHoldsDeferralsUntilTheOwnerLetsGoThenKeepsThemBehindItsEntries() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-takeover")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let old = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let earlier = try OutboxFileStoreTests.keep(old, OutboxFileStoreTests.call("u1", body: "first")).get()

        let new = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger, takeOver: true,
                                      heldCallPatienceMs: 10_000)
        defer { new.stop() }
        // It cannot know what the old one holds: every juid counts as waiting, so no call overtakes.
        #expect(new.hasPending(siteID: "s", juid: "someone-else"))
        let later = Self.keepLater(new, OutboxFileStoreTests.call("u1", body: "second"))
        #expect(later.done.wait(timeout: .now() + 0.3) == .timedOut, "kept before the outbox was open")

        old.release()
        #expect(later.done.wait(timeout: .now() + 5) == .success)
        let kept = try #require(later.result).get()
        #expect(new.entry(id: earlier.id)?.state == .pending)
        #expect(kept.sequence > earlier.sequence)
        #expect(!new.hasPending(siteID: "s", juid: "someone-else"))
        let first = new.claimDue(limit: 10)
        #expect(first.map(\.id) == [earlier.id], "the later call of u1 waits behind the earlier one")
        _ = new.settle(first[0], attempt: .answered(status: 200))
        #expect(new.claimDue(limit: 10).map(\.id) == [kept.id])
    }

    @Test func releasingStopsDeferringAndDeliveringButRecordsTheAttemptUnderWay() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-takeover")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let old = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let underWay = try OutboxFileStoreTests.keep(old, OutboxFileStoreTests.call("u1")).get()
        let waiting = try OutboxFileStoreTests.keep(old, OutboxFileStoreTests.call("u2")).get()
        #expect(old.claimDue(limit: 1).map(\.id) == [underWay.id])

        let released = DispatchSemaphore(value: 0)
        Thread { old.release(patienceMs: 5_000); released.signal() }.start()
        #expect(released.wait(timeout: .now() + 0.2) == .timedOut, "release waits for the delivery under way")
        #expect(old.claimDue(limit: 10).isEmpty, "no delivery starts once the stop began")
        guard case .failure(.unavailable) = OutboxFileStoreTests.keep(old, OutboxFileStoreTests.call("u3")) else {
            Issue.record("a deferral after the stop began was not refused")
            return
        }
        _ = old.settle(underWay, attempt: .answered(status: 200))
        #expect(released.wait(timeout: .now() + 5) == .success)

        let next = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { next.stop() }
        #expect(next.entry(id: underWay.id)?.state == .delivered, "the result of the attempt under way was kept")
        #expect(next.entry(id: waiting.id)?.state == .pending)
        #expect(next.depth.pending == 1)
    }

    @Test func theWaitIsBoundedAndAHeldDeferralIsRefusedInTime() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-takeover")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let owner = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { owner.stop() }
        let new = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger, takeOver: true,
                                      takeOverPatienceMs: 600, heldCallPatienceMs: 100)
        defer { new.stop() }
        let held = Self.keepLater(new, OutboxFileStoreTests.call("u1"))
        #expect(held.done.wait(timeout: .now() + 2) == .success, "a held deferral waits its patience, not forever")
        guard case .failure(.unavailable(let reason))? = held.result else {
            Issue.record("expected a refusal, got \(String(describing: held.result))")
            return
        }
        #expect(reason.contains("retry"))
        // After the take-over's patience: deferral is refused at once, and live calls are no longer held back.
        let gaveUp = Polling.read(timeoutSeconds: 5, until: { !$0 }) { new.hasPending(siteID: "s", juid: "u1") }
        #expect(!gaveUp)
        guard case .failure(.unavailable(let after)) = OutboxFileStoreTests.keep(new, OutboxFileStoreTests.call("u2")) else {
            Issue.record("a deferral after the take-over gave up was not refused")
            return
        }
        #expect(after.contains("restart"))
    }

    /// The whole hand-over with real processes: an entry the old gateway kept (and failed to deliver) is
    /// delivered by the new one once the old one has stopped, and the new one defers afterwards.
    @Test func anEntryKeptByTheOldProcessIsDeliveredByTheNewOne() throws {
        let upstream = try ScriptedUpstream(.answer(503, "{\"error\":\"down\"}"))
        defer { upstream.stop() }
        let directory = try cli.makeWorkingDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outboxPath = directory + "/outbox"
        let key = "takeover-site-key"
        let environment = ["JUSTGATE_TAKEOVER_TOKEN": "takeover-token"]
        func config(listen: String) throws -> String {
            try cli.writeTemporary("""
                listen: \(listen)
                server: { workers: 2 }
                shutdown: { grace_ms: 1000 }
                upstream: { url: "\(upstream.url)", circuit: { failures: 1000, open_ms: 100 } }
                outbox: { path: \(outboxPath), retry_ms: [200] }
                sites:
                  - id: takeover-site
                    key_sha256: "\(SiteKeys.sha256Hex(key))"
                    upstream_token: { env: JUSTGATE_TAKEOVER_TOKEN }
                    defer: [subscribe.email]
                """)
        }
        var outboxConfig = OutboxConfig()
        outboxConfig.path = outboxPath
        let filler = try OutboxFileStore(config: outboxConfig, logger: OutboxFileStoreTests.logger)
        let kept = try OutboxFileStoreTests.keep(filler, OutboxFileStoreTests.call("u1", site: "takeover-site")).get()
        filler.stop()

        var old = try cli.startServe(config: try config(listen: "127.0.0.1:0"), environment: environment, directory: directory)
        let port = try #require(old.port, "no start-up line in: \(old.log)")
        let tried = Polling.read(timeoutSeconds: 10, until: { $0 >= 1 }) { upstream.requestCount }
        #expect(tried >= 1, "the old process never tried the entry: \(old.log)")

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let process = try ChildProcess(CommandLineTests.binary.path,
                                       ["serve", "--config", try config(listen: "127.0.0.1:\(port)"), "--replace"],
                                       environment: merged, directory: directory)
        var new = CommandLineTests.RunningServe(process: process, log: process.readStderr(until: "justgate started", timeoutSeconds: 10),
                                                directory: directory)
        #expect(new.log.contains("justgate started"), "the new process did not start: \(new.log)")
        // The writer thread says so as it begins to wait, which may come just after the start-up line.
        if !new.log.contains("the outbox is held by the process being replaced") {
            new.log += process.readStderr(until: "the outbox is held by the process being replaced", timeoutSeconds: 5)
        }
        #expect(new.log.contains("the outbox is held by the process being replaced"), "\(new.log)")

        #expect(old.stop() == 0, "\(old.log)")
        let attemptsByOld = upstream.requestCount
        upstream.behaviour = .answer(200, "{\"ok\":true}")
        new.log += process.readStderr(until: "outbox taken over", timeoutSeconds: 10)
        #expect(new.log.contains("outbox taken over"), "\(new.log)")
        let delivered = Polling.read(timeoutSeconds: 10, until: { $0 > attemptsByOld }) { upstream.requestCount }
        #expect(delivered > attemptsByOld, "the new process did not deliver the old one's entry: \(new.log)")
        // The upstream has answered; its 200 is recorded once the new process's own lookup says delivered (a
        // graceful stop then writes it), waited for rather than slept on.
        let status = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? RawHTTPClient(port: port).exchange(
                "GET \(RequestDriver.deliveriesPrefix)\(kept.id) HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(key)\r\n\r\n").text) ?? ""
        }
        #expect(status.contains("\"state\":\"delivered\""), "\(status)")
        #expect(new.stop() == 0, "\(new.log)")

        let reopened = try OutboxFileStore(config: outboxConfig, logger: OutboxFileStoreTests.logger)
        defer { reopened.stop() }
        let entry = reopened.entry(id: kept.id)
        #expect(entry?.state == .delivered && entry?.lastStatus == 200, "\(String(describing: entry))")
    }

    /// The taking-over side's deferral against a real old process: a store opened with `takeOver` while a
    /// running `justgate serve` owns the directory holds a deferral until that process is stopped, then keeps
    /// it on disk behind the old process's entry.
    @Test func afterTheOldProcessStopsTheNewOwnerDefers() throws {
        let directory = try cli.makeWorkingDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outboxPath = directory + "/outbox"
        let environment = ["JUSTGATE_TAKEOVER_TOKEN": "takeover-token"]
        var outboxConfig = OutboxConfig()
        outboxConfig.path = outboxPath
        let filler = try OutboxFileStore(config: outboxConfig, logger: OutboxFileStoreTests.logger)
        let earlier = try OutboxFileStoreTests.keep(filler, OutboxFileStoreTests.call("u1", site: "takeover-site")).get()
        filler.stop()
        // An upstream nothing listens on: the old process keeps the entry pending.
        let config = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            shutdown: { grace_ms: 500 }
            upstream: { url: "http://127.0.0.1:9", connect_timeout_ms: 200 }
            outbox: { path: \(outboxPath), retry_ms: [60000] }
            sites:
              - id: takeover-site
                key_sha256: "\(SiteKeys.sha256Hex("k"))"
                upstream_token: { env: JUSTGATE_TAKEOVER_TOKEN }
                defer: [subscribe.email]
            """)
        var old = try cli.startServe(config: config, environment: environment, directory: directory)
        #expect(old.port != nil, "\(old.log)")

        let new = try OutboxFileStore(config: outboxConfig, logger: OutboxFileStoreTests.logger, takeOver: true,
                                      heldCallPatienceMs: 10_000)
        defer { new.stop() }
        let later = Self.keepLater(new, OutboxFileStoreTests.call("u1", site: "takeover-site"))
        #expect(later.done.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(old.stop() == 0, "\(old.log)")
        #expect(later.done.wait(timeout: .now() + 5) == .success)
        let kept = try #require(later.result).get()
        #expect(kept.sequence > earlier.sequence)
        #expect(new.entry(id: earlier.id)?.state == .pending)
        #expect(new.depth.pending == 2)
    }
}
