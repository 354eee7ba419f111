#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import JustGateAuditReview

/// Reads audit files in order, a chunk at a time, so a 1 GB log needs no more memory than one chunk and the
/// reader's own state.
enum AuditReader {
    static let chunkBytes = 1 << 20

    /// Calls `line` with every complete line of every file (without its newline), with the file and line number.
    /// `unterminated` gets the bytes after a file's last newline, if any.
    static func forEachLine(in files: [String],
                            line: (ArraySlice<UInt8>, String, Int) throws(AuditInputError) -> Void,
                            unterminated: (ArraySlice<UInt8>, String, Int) throws(AuditInputError) -> Void = { _, _, _ in })
        throws(AuditInputError)
    {
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        for path in files {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw AuditInputError("\(path): cannot open (\(String(cString: strerror(errno))))") }
            defer { close(fd) }
            var splitter = AuditLineSplitter()
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { throw AuditInputError("\(path): cannot read (\(String(cString: strerror(errno))))") }
                if count == 0 { break }
                let tooLong = try buffer.withUnsafeBytes { raw in
                    Result { () throws(AuditInputError) in
                        try splitter.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { bytes, number throws(AuditInputError) in
                            try line(bytes, path, number)
                        }
                    }
                }.get()
                if let tooLong {
                    throw AuditInputError("\(path):\(tooLong.line): not an audit record (a line longer than 1 MiB); is this an audit log?")
                }
            }
            if let rest = splitter.unterminated { try unterminated(rest.bytes, path, rest.line) }
        }
    }

    /// Calls `body` with every record that passes `filter`. A line that is not a record stops the read with
    /// its file and line, except the torn line a `chain_restart` record reports on the next line, and a last
    /// line still being written.
    static func forEachRecord(in files: [String], filter: AuditFilter,
                              _ body: (AuditRecord, ArraySlice<UInt8>) throws(AuditInputError) -> Void) throws(AuditInputError) {
        var unreadable: AuditInputError?
        try forEachLine(in: files, line: { bytes, path, number throws(AuditInputError) in
            let record: AuditRecord
            do throws(AuditRecordDecoding.Failure) {
                record = try AuditRecordDecoding.decode(bytes)
            } catch {
                if let unreadable { throw unreadable }
                unreadable = AuditInputError("\(path):\(number): \(error.message); is this an audit log?")
                return
            }
            if let pending = unreadable {
                guard record.event == .chainRestart else { throw pending }
                unreadable = nil
            }
            if filter.matches(record) { try body(record, bytes) }
        })
        if let unreadable { throw unreadable }
    }
}

/// Buffered standard output: one write(2) per 64 KiB instead of one per line.
struct StandardOutput {
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 16) }

    mutating func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func write(_ text: String) { write(text.utf8) }

    mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
