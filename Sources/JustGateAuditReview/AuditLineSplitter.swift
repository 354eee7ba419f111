import JustGateCore

/// Cuts a stream of bytes into lines for the audit readers, in bounded memory: only the unfinished last line
/// is kept between chunks, and a "line" longer than `maxLineBytes` is reported instead of buffered, because
/// audit lines are a few hundred bytes and a file without newlines is not an audit log.
public struct AuditLineSplitter {
    /// Longest line accepted.
    public static let maxLineBytes = 1 << 20

    private var partial: [UInt8] = []
    /// Lines completed so far; the next complete line has number `lineNumber + 1`.
    public private(set) var lineNumber = 0

    public init() {}

    /// A line longer than `maxLineBytes`.
    public struct LineTooLong: Error, Sendable {
        public var line: Int
    }

    /// Calls `body` with every complete line in `chunk` (without its newline) and its 1-based number.
    public mutating func feed<E: Error>(_ chunk: UnsafeRawBufferPointer,
                                        _ body: (ArraySlice<UInt8>, Int) throws(E) -> Void) throws(E) -> LineTooLong? {
        let bytes = chunk.bindMemory(to: UInt8.self)
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                partial.append(contentsOf: bytes[start...])
                if partial.count > AuditLineSplitter.maxLineBytes { return LineTooLong(line: lineNumber + 1) }
                return nil
            }
            lineNumber += 1
            if partial.isEmpty {
                try body(ArraySlice(bytes[start..<newline]), lineNumber)
            } else {
                partial.append(contentsOf: bytes[start..<newline])
                if partial.count > AuditLineSplitter.maxLineBytes { return LineTooLong(line: lineNumber) }
                try body(partial[...], lineNumber)
                partial.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        return nil
    }

    /// The bytes after the last newline (a line still being written, or torn), if any, and its number.
    public var unterminated: (bytes: ArraySlice<UInt8>, line: Int)? {
        partial.isEmpty ? nil : (partial[...], lineNumber + 1)
    }

    /// Forgets the unfinished line (after it has been handled at the end of a file).
    public mutating func reset() {
        partial.removeAll(keepingCapacity: true)
        lineNumber = 0
    }
}
