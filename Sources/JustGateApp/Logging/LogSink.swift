#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import JustGateReactor
import Synchronization

/// Where log lines go: one descriptor (stderr by default).
///
/// Lines are appended to a buffer under a lock and written in batches by the sink's own flusher
/// thread (`jg-log`), at most `flushIntervalMs` after they were logged, or as soon as the flusher is
/// woken because the buffer passed 64 KiB. So a busy gateway makes one `write(2)` per batch instead of
/// one per request, and the event loops that log never touch the descriptor: a stderr pipe whose
/// reader stopped blocks the flusher, never a loop.
///
/// While the descriptor does not drain, the buffer grows to at most `maxBufferedBytes` (plus one line);
/// beyond that lines are dropped and counted, and the next batch that is written ends with one
/// line saying how many were lost. A stalled log reader costs log lines, never requests.
///
/// `flush()` writes what is pending on the calling thread (it may block on a blocked descriptor), so
/// it is for `serve`'s main thread and tests, never for a loop.
public final class LogSink: Sendable {
    private let fd: Int32
    private let pending = Mutex<Pending>(Pending())
    /// Held while bytes are taken from `pending` and written, so batches reach the descriptor in the
    /// order they were taken even when `flush()` and the flusher thread run at once. Loops never take it.
    private let writing = Mutex<Void>(())
    /// Signalled by `append` when the buffer passes `wakeFlusherBytes`; the flusher waits on it with
    /// its interval as the timeout.
    private let wake = DispatchSemaphore(value: 0)
    private let flushIntervalMs: Int
    private let maxBufferedBytes: Int
    private static let wakeFlusherBytes = 64 * 1024

    /// Text lines instead of JSON (`log.format: text`); `nil` writes lines as they are given.
    private let text: TextLogLine?

    private struct Pending {
        var bytes: [UInt8] = []
        /// Lines dropped because the buffer was full, not yet reported.
        var dropped = 0
        /// The flusher was signalled and has not taken the buffer yet: one wake-up per batch, not per line.
        var wakeRequested = false
    }

    /// - Parameters:
    ///   - flushIntervalMs: 0 writes every line at once on the calling thread, with no flusher and
    ///     no bound (tests only: a loop would wait on the descriptor).
    ///   - maxBufferedBytes: how much may wait for a descriptor that does not drain before lines are dropped.
    ///   - text: renders each JSON line as text for a terminal (`log.format: text`).
    public init(fd: Int32 = 2, flushIntervalMs: Int = 50, maxBufferedBytes: Int = 4 * 1024 * 1024,
                text: TextLogLine? = nil) {
        self.fd = fd
        self.flushIntervalMs = flushIntervalMs
        self.maxBufferedBytes = maxBufferedBytes
        self.text = text
        if flushIntervalMs > 0 { startFlusher() }
    }

    public func write(_ line: String) {
        if let text { return append { $0.append(contentsOf: text.render(Array(line.utf8))) } }
        append { $0.append(contentsOf: line.utf8) }
    }

    /// Appends one line given as bytes (without its newline), for writers that build lines in a
    /// reusable buffer.
    public func write(_ line: [UInt8]) {
        if let text { return append { $0.append(contentsOf: text.render(line)) } }
        append { $0.append(contentsOf: line) }
    }

    private func append(_ line: (inout [UInt8]) -> Void) {
        if flushIntervalMs == 0 {
            writing.withLock { _ in
                pending.withLock { line(&$0.bytes); $0.bytes.append(0x0A) }
                writePending()
            }
            return
        }
        let wakeFlusher = pending.withLock { state -> Bool in
            guard state.bytes.count < maxBufferedBytes else {
                state.dropped += 1
                return false
            }
            line(&state.bytes)
            state.bytes.append(0x0A)
            guard state.bytes.count >= LogSink.wakeFlusherBytes, !state.wakeRequested else { return false }
            state.wakeRequested = true
            return true
        }
        if wakeFlusher { wake.signal() }
    }

    /// Writes every pending line now, on the calling thread.
    public func flush() {
        writing.withLock { _ in writePending() }
    }

    /// Takes the buffer (and the count of dropped lines) and writes it; the caller holds `writing`.
    private func writePending() {
        let (bytes, dropped) = pending.withLock { state -> ([UInt8], Int) in
            guard !state.bytes.isEmpty || state.dropped > 0 else { return ([], 0) }
            // The taken buffer is handed over whole; the new one starts at the usual batch size, so a
            // burst up to the bound does not keep megabytes allocated afterwards.
            var taken: [UInt8] = []
            swap(&taken, &state.bytes)
            state.bytes.reserveCapacity(min(taken.count, LogSink.wakeFlusherBytes))
            defer {
                state.dropped = 0
                state.wakeRequested = false
            }
            return (taken, state.dropped)
        }
        if !bytes.isEmpty { writeAll(bytes) }
        if dropped > 0 { writeAll(droppedLine(dropped)) }
    }

    /// The line that reports lost lines, in the sink's format.
    private func droppedLine(_ count: Int) -> [UInt8] {
        var line = "{\"time\":\"\(LogTimestamp.now())\",\"level\":\"warning\",\"logger\":\"justgate\","
        line += "\"message\":\"log: \(count) lines dropped because the log output was not being read\"}"
        var bytes = text.map { $0.render(Array(line.utf8)) } ?? Array(line.utf8)
        bytes.append(0x0A)
        return bytes
    }

    /// Writes all of `bytes`, waiting for the descriptor when it is non-blocking and full; gives up
    /// only on a real error (a closed pipe, a bad descriptor), since then no one can read the lines.
    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, -1)
            } else {
                return
            }
        }
    }

    /// A detached thread that flushes every `flushIntervalMs`, or sooner when `append` wakes it; it
    /// holds the sink weakly and ends with it.
    private func startFlusher() {
        let interval = flushIntervalMs
        let wake = self.wake
        let thread = Thread { [weak self] in
            ThreadName.setCurrent("jg-log")
            while true {
                _ = wake.wait(timeout: .now() + .milliseconds(interval))
                guard let sink = self else { return }
                sink.flush()
            }
        }
        thread.start()
    }

    public static let standardError = LogSink(fd: 2)
}

/// Wall-clock time in RFC 3339 UTC with milliseconds, the `time` field of every log line.
enum LogTimestamp {
    /// Formats into a fixed 24-byte buffer: this runs once per request, so no intermediate strings.
    static func now() -> String {
        String(unsafeUninitializedCapacity: 24) { format(into: $0) }
    }

    /// Appends the current time to a line being built as bytes.
    static func append(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 24))
        out.withUnsafeMutableBufferPointer { whole in
            _ = format(into: UnsafeMutableBufferPointer(rebasing: whole[start..<(start + 24)]))
        }
    }

    private static func format(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func put(_ value: Int, digits: Int, at offset: Int) {
            var rest = value
            for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                buffer[position] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, digits: 4, at: 0)
        buffer[4] = 0x2D
        put(Int(parts.tm_mon) + 1, digits: 2, at: 5)
        buffer[7] = 0x2D
        put(Int(parts.tm_mday), digits: 2, at: 8)
        buffer[10] = 0x54
        put(Int(parts.tm_hour), digits: 2, at: 11)
        buffer[13] = 0x3A
        put(Int(parts.tm_min), digits: 2, at: 14)
        buffer[16] = 0x3A
        put(Int(parts.tm_sec), digits: 2, at: 17)
        buffer[19] = 0x2E
        put(Int(spec.tv_nsec / 1_000_000), digits: 3, at: 20)
        buffer[23] = 0x5A
        return 24
    }
}
