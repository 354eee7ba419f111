#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Where log lines go: one descriptor (stderr by default).
///
/// Lines are appended to a buffer under a lock and written in batches, at most `flushIntervalMs`
/// after they were logged (or at once when the buffer passes 64 KiB), so a busy gateway makes one
/// `write(2)` per batch instead of one per request, and loops never wait on the descriptor.
/// `flush()` writes what is pending; `serve` calls it before exiting.
public final class LogSink: Sendable {
    private let fd: Int32
    private let pending = Mutex<[UInt8]>([])
    private let flushIntervalMs: Int
    private static let immediateFlushBytes = 64 * 1024

    /// Text lines instead of JSON (`log.format: text`); `nil` writes lines as they are given.
    private let text: TextLogLine?

    /// - Parameters:
    ///   - flushIntervalMs: 0 writes every line at once (tests, and tools that tail the log).
    ///   - text: renders each JSON line as text for a terminal (`log.format: text`).
    public init(fd: Int32 = 2, flushIntervalMs: Int = 50, text: TextLogLine? = nil) {
        self.fd = fd
        self.flushIntervalMs = flushIntervalMs
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
        let ready: [UInt8]? = pending.withLock { buffer in
            line(&buffer)
            buffer.append(0x0A)
            guard flushIntervalMs == 0 || buffer.count >= LogSink.immediateFlushBytes else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let ready { writeAll(ready) }
    }

    /// Writes every pending line now.
    public func flush() {
        let ready = pending.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !ready.isEmpty { writeAll(ready) }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// A detached thread that flushes every `flushIntervalMs`; it holds the sink weakly and ends with it.
    private func startFlusher() {
        let interval = UInt32(flushIntervalMs * 1000)
        let thread = Thread { [weak self] in
            while let sink = self {
                usleep(interval)
                sink.flush()
            }
        }
        thread.name = "justgate-log-flush"
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
