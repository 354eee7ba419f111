#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import Synchronization
import Testing

/// The log sink on a real pipe: lines arrive whole and in order, and a pipe that nobody reads costs
/// log lines (counted and reported) but never blocks the thread that logs.
@Suite(.serialized)
struct LogSinkTests {
    /// One numbered line of a fixed length, so a test can tell a whole line from a torn one.
    static func line(_ number: Int) -> String {
        let label = "line-" + String(format: "%07d", number) + "-"
        return label + String(repeating: "x", count: 100 - label.count)
    }

    @Test func flushDeliversEveryLineInOrder() throws {
        let pipe = try LogPipe()
        defer { pipe.close() }
        // An interval far longer than the test: only `flush()` (or 64 KiB) writes.
        let sink = LogSink(fd: pipe.writeEnd, flushIntervalMs: 60_000)
        for number in 0..<200 { sink.write(LogSinkTests.line(number)) }
        #expect(pipe.readAvailable().isEmpty, "lines were written before flush(), one write(2) each")
        sink.flush()
        let lines = pipe.readAvailable().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 201)
        #expect(lines.dropLast().map(String.init) == (0..<200).map(LogSinkTests.line))
        #expect(lines.last == "")
    }

    @Test func aFullBufferWakesTheFlusherWithoutFlush() throws {
        let pipe = try LogPipe()
        let sink = LogSink(fd: pipe.writeEnd, flushIntervalMs: 60_000)
        // 700 lines of 101 bytes (70,700): the 649th passes the 64 KiB at which the flusher is woken, and the
        // batch is more than the pipe holds, so whoever writes it waits for this test to read.
        let written = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for number in 0..<700 { sink.write(LogSinkTests.line(number)) }
            written.signal()
        }
        let returned = written.wait(timeout: .now() + .seconds(5)) == .success
        #expect(returned, "LogSink.write wrote the batch on the calling thread, and blocked")
        // A writer still blocked in write(2) would get SIGPIPE if the read end closed: then the pipe is left open.
        guard returned else { return }
        defer { pipe.close() }
        var text = ""
        let deadline = Date().addingTimeInterval(5)
        while text.split(separator: "\n").count < 649 && Date() < deadline {
            text += pipe.readAvailable(waitMs: 100)
        }
        #expect(text.split(separator: "\n").count >= 649, "the flusher was not woken by a full buffer")
        // At most 70,700 - 65,549 bytes are left anywhere, which the pipe holds: this flush cannot block.
        sink.flush()
        text += pipe.readAvailable()
        #expect(text.split(separator: "\n").map(String.init) == (0..<700).map(LogSinkTests.line))
    }

    /// With a non-blocking write end too (a stderr some other program set O_NONBLOCK on): the flusher then
    /// waits for room instead of losing the rest of a batch uncounted.
    @Test(arguments: [false, true])
    func aPipeNobodyReadsDropsCountedLinesAndNeverBlocksTheWriter(nonBlocking: Bool) throws {
        let pipe = try LogPipe()
        if nonBlocking { _ = fcntl(pipe.writeEnd, F_SETFL, fcntl(pipe.writeEnd, F_GETFL) | O_NONBLOCK) }
        let bound = 1024 * 1024
        let sink = LogSink(fd: pipe.writeEnd, flushIntervalMs: 10, maxBufferedBytes: bound)
        // 4 MB: far past the pipe's 64 KiB and the sink's 1 MiB bound, and nobody reads yet.
        let total = 40_000
        let written = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for number in 0..<total { sink.write(LogSinkTests.line(number)) }
            written.signal()
        }
        // Liveness, not speed: a writer that waited on the full pipe would never finish.
        let returned = written.wait(timeout: .now() + .seconds(5)) == .success
        #expect(returned, "LogSink.write blocked on a pipe whose reader stopped")
        // A writer still blocked in write(2) would get SIGPIPE if the read end closed: then the pipe is left open.
        guard returned else { return }
        defer { pipe.close() }

        // Now drain the pipe on a reader thread while this one flushes what is left: the flusher ends the
        // batch it was blocked on, and the rest follows with the count of lines that were dropped.
        let reader = PipeReader(pipe)
        let flushed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            sink.flush()
            flushed.signal()
        }
        try #require(flushed.wait(timeout: .now() + .seconds(10)) == .success, "flush() never finished")
        let text = try #require(reader.closeAndRead(timeoutSeconds: 10), "the pipe never reached its end")
        #expect(text.hasSuffix("\n"))
        var delivered: [Int] = []
        var dropped = 0
        for line in text.split(separator: "\n").map(String.init) {
            if let count = LogSinkTests.droppedCount(line) {
                dropped += count
                continue
            }
            guard let number = Int(line.dropFirst(5).prefix(7)),
                  line == LogSinkTests.line(number) else {
                Issue.record("a torn or foreign line: \(line.prefix(120))")
                continue
            }
            delivered.append(number)
        }
        #expect(dropped > 0, "no drop-count line")
        #expect(delivered == delivered.sorted() && Set(delivered).count == delivered.count, "lines out of order or repeated")
        // Every line was either written or counted as dropped.
        #expect(delivered.count + dropped == total, "\(delivered.count) delivered + \(dropped) dropped")
        // What waited for the descriptor stayed within the bound: the batch the flusher was blocked on and
        // the buffer behind it, each at most the bound plus one line (4 MB were logged).
        #expect(delivered.count * 101 <= 2 * (bound + 101) + 65536, "\(delivered.count) lines were held")
    }

    /// N from the sink's "log: N lines dropped …" line, or nil for any other line.
    static func droppedCount(_ line: String) -> Int? {
        guard line.hasPrefix("{"), let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let message = object["message"] as? String, object["level"] as? String == "warning" else { return nil }
        let words = message.split(separator: " ")
        guard words.count > 2, words[0] == "log:", message.hasSuffix("lines dropped because the log output was not being read")
        else { return nil }
        return Int(words[1])
    }
}

/// A pipe whose read end the test reads only when it chooses (non-blocking), so the write end fills up
/// like a stderr whose reader stopped.
final class LogPipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32
    private let writeEndOpen = Mutex(true)

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
        readEnd = ends[0]
        writeEnd = ends[1]
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
    }

    /// Everything readable now, waiting up to `waitMs` for the first bytes.
    func readAvailable(waitMs: Int32 = 0) -> String {
        String(decoding: readBytes(waitMs: waitMs).bytes, as: UTF8.self)
    }

    /// The bytes readable now (waiting up to `waitMs` for the first), and whether the write end is closed
    /// and everything was read.
    func readBytes(waitMs: Int32) -> (bytes: [UInt8], ended: Bool) {
        var ready = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        _ = poll(&ready, 1, waitMs)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count == 0 { return (bytes, true) }
            guard count > 0 else { return (bytes, false) }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    /// Closes the write end (once): a reader then sees the end of the pipe after the last byte.
    func closeWriteEnd() {
        writeEndOpen.withLock { open in
            if open { _ = Glibc.close(writeEnd) }
            open = false
        }
    }

    func close() {
        closeWriteEnd()
        _ = Glibc.close(readEnd)
    }
}

/// Reads a `LogPipe` to its end on its own thread.
final class PipeReader: Sendable {
    private let pipe: LogPipe
    private let received = Mutex<[UInt8]>([])
    private let ended = DispatchSemaphore(value: 0)

    init(_ pipe: LogPipe) {
        self.pipe = pipe
        Thread.detachNewThread { [self] in
            while true {
                let (bytes, atEnd) = pipe.readBytes(waitMs: 100)
                received.withLock { $0.append(contentsOf: bytes) }
                if atEnd { break }
            }
            ended.signal()
        }
    }

    /// Closes the pipe's write end (call it once nothing writes to it any more) and returns everything
    /// read, or nil if the end did not arrive within `timeoutSeconds`.
    func closeAndRead(timeoutSeconds: Int) -> String? {
        pipe.closeWriteEnd()
        guard ended.wait(timeout: .now() + .seconds(timeoutSeconds)) == .success else { return nil }
        return String(decoding: received.withLock { $0 }, as: UTF8.self)
    }
}
