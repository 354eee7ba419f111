#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import JustGateApp
import JustGateCore
import Logging
import Synchronization
import Testing

/// The live segment's zero-filled room (`OutboxSegmentFiles.prepare`, issue 25: CPU per deferral): records are
/// written into zeros in place, and the zeros never cost a record or pass for one. A killed gateway leaves them at
/// the end of its newest segment: replay stops there and cuts them (a torn record before them too, with the
/// warning a torn tail gets); a closed segment and a stopped outbox end in their last record; an older segment
/// ending in zeros is damage, as any bad record there. Real files in a fresh directory each.
@Suite struct OutboxPreparedSegmentTests {
    /// The size of `path`, or -1.
    static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : -1
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Appends `bytes` at the end of `path`, as a crash leaves a file.
    static func appendRaw(_ bytes: [UInt8], to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try handle.close()
    }

    /// A logger whose warnings and errors are kept, to tell a torn tail (warned about) from zeros (not).
    final class Warnings: Sendable {
        let lines = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "outbox-test") { _ in Handler(box: self) }
        }

        struct Handler: LogHandler {
            let box: Warnings
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .warning
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                     file: String, function: String, line: UInt) {
                box.lines.withLock { $0.append(message.description) }
            }
        }
    }

    @Test func theLiveSegmentIsZeroFilledAheadOfItsRecordsAndAStopCutsTheZeros() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-prepared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let ids = try (0..<3).map { try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u\($0)")).get().id }
        let files = OutboxSegmentFiles(directory: config.path)
        let path = files.path(of: try #require(files.numbers().last))
        // The room is written after the batch's completions: wait for it rather than for a fixed time.
        let prepared = Polling.read(timeoutSeconds: 10, until: { $0 >= OutboxSegmentFiles.defaultPrepareBytes / 2 }) {
            Self.size(path)
        }
        let content = try Self.bytes(path)
        let decoded = OutboxRecordCodec.decode(content)
        #expect(prepared >= OutboxSegmentFiles.defaultPrepareBytes / 2, "the live segment was not zero-filled ahead")
        #expect(decoded.records.map(\.id) == ids)
        #expect(!content[decoded.validBytes...].contains { $0 != 0 }, "the room after the records is not all zeros")
        store.stop()
        #expect(Self.size(path) == decoded.validBytes, "a stopped outbox's segment still ends in zeros")
    }

    @Test func aKilledGatewaysZeroTailIsCutWithoutAWarningAndEveryRecordKept() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-prepared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let kept = try (0..<3).map { try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u\($0)")).get() }
        store.stop()
        let files = OutboxSegmentFiles(directory: config.path)
        let path = files.path(of: try #require(files.numbers().last))
        let whole = Self.size(path)
        // The zero-filled room a gateway killed with SIGKILL (or a power cut) leaves after its last record.
        try Self.appendRaw([UInt8](repeating: 0, count: OutboxSegmentFiles.defaultPrepareBytes), to: path)

        let warnings = Warnings()
        let reopened = try OutboxFileStore(config: config, logger: warnings.logger)
        #expect(kept.allSatisfy { reopened.entry(id: $0.id)?.state == .pending })
        #expect(Self.size(path) == whole, "the zeros were not cut")
        #expect(warnings.lines.withLock { $0 }.isEmpty, "\(warnings.lines.withLock { $0 })")
        let later = try OutboxFileStoreTests.keep(reopened, OutboxFileStoreTests.call("u9")).get()
        reopened.stop()
        let third = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        defer { third.stop() }
        #expect((kept + [later]).allSatisfy { third.entry(id: $0.id) != nil })
        #expect(third.depth.pending == 4)
    }

    @Test func aTornRecordBeforeTheZerosIsCutAsATornTail() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-prepared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, logger: OutboxFileStoreTests.logger)
        let kept = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u1")).get()
        store.stop()
        let files = OutboxSegmentFiles(directory: config.path)
        let path = files.path(of: try #require(files.numbers().last))
        let whole = Self.size(path)
        // Half a record written into the room, the rest of the room still zeros: a crash mid-write.
        var torn: [UInt8] = []
        OutboxRecordCodec.append(.entry(OutboxEntry(id: "torn", sequence: 99, siteID: "s", operationID: "x", juid: "t",
                                                    method: "POST", target: "/", body: [1, 2, 3], contentType: nil,
                                                    requestID: "r", createdAtMs: 0)), to: &torn)
        try Self.appendRaw(Array(torn.prefix(torn.count / 2)) + [UInt8](repeating: 0, count: 65_536), to: path)

        let warnings = Warnings()
        let reopened = try OutboxFileStore(config: config, logger: warnings.logger)
        defer { reopened.stop() }
        #expect(reopened.entry(id: kept.id) != nil && reopened.entry(id: "torn") == nil)
        #expect(Self.size(path) == whole)
        #expect(warnings.lines.withLock { $0 }.contains { $0.contains("torn tail") })
    }

    /// 2 KiB segments: a segment is closed every few records, and each closed one ends in its last record while
    /// the store still runs (not only once it stops).
    @Test func aClosedSegmentEndsInItsLastRecord() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-prepared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        let store = try OutboxFileStore(config: config, segmentBytes: 2048, logger: OutboxFileStoreTests.logger)
        defer { store.stop() }
        for index in 0..<20 { _ = try OutboxFileStoreTests.keep(store, OutboxFileStoreTests.call("u\(index)")).get() }
        let files = OutboxSegmentFiles(directory: config.path)
        let closed = files.numbers().dropLast()
        #expect(closed.count >= 2, "2 KiB segments: 20 entries take several")
        for number in closed {
            let content = try Self.bytes(files.path(of: number))
            #expect(OutboxRecordCodec.decode(content).validBytes == content.count,
                    "closed segment \(number): \(content.count) bytes, records end at \(OutboxRecordCodec.decode(content).validBytes)")
        }
    }

    /// Only the newest segment may end in zeros (a closed one is cut before the next begins): zeros at the end
    /// of an older one are damage (a lost write, an edit), refused like any bad record there, nothing cut.
    @Test func zerosAtTheEndOfAnOlderSegmentRefuseStart() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox-prepared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = OutboxFileStoreTests.config(directory)
        _ = try OutboxSegmentReviewTests.fill(config, count: 20)
        let files = OutboxSegmentFiles(directory: config.path)
        let path = files.path(of: try #require(files.numbers().first))
        try Self.appendRaw([UInt8](repeating: 0, count: 4096), to: path)
        let size = Self.size(path)
        let message = OutboxSegmentReviewTests.refusal(config)
        #expect(message?.contains(path) == true && message?.contains("damaged record") == true, "\(message ?? "it opened")")
        #expect(Self.size(path) == size, "nothing is cut in an older segment")
    }
}
