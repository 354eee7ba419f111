/// Writes JSON into memory reserved up front, for output written once per request on a hot path (the
/// audit record's body). The same text as ``JSONBytesWriter``, without an array's uniqueness and capacity
/// checks for every byte: encoding a record through `[UInt8].append` spent more time in those checks than
/// in writing the bytes.
///
/// Use it through ``JSONSpanWriter/write(into:_:)``, into memory the caller keeps (the audit body on the writer
/// thread), or ``JSONSpanWriter/append(to:upperBound:_:)``, which grows an array and keeps only what was
/// written; either way the room given must cover everything written: a quoted text at most 2 + 6 bytes per
/// byte (each escaped as `\u00XX`), `null` 4, a number ``JSONSpanWriter/numberBound``.
///
/// Its writing methods are `@inlinable`, so they inline into callers in other modules as well (tests, the
/// micro-benchmarks); `append(to:upperBound:)` and `numberBound` are there for those callers.
public struct JSONSpanWriter {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    /// Bytes written so far.
    @usableFromInline var count = 0

    @usableFromInline
    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Grows `out` by at most `upperBound` bytes and lets `write` fill them; what it did not use is given back.
    public static func append(to out: inout [UInt8], upperBound: Int, _ write: (inout JSONSpanWriter) -> Void) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: upperBound))
        let written = out.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var writer = JSONSpanWriter(base: base + start, capacity: upperBound)
            write(&writer)
            return writer.count
        }
        out.removeLast(upperBound - written)
    }

    /// Writes into memory the caller owns (at least as many bytes as `write` can need) and returns how many
    /// bytes were written: for a caller that keeps one buffer for every record, so nothing is zeroed or copied
    /// in between.
    @inlinable
    public static func write(into buffer: UnsafeMutableRawBufferPointer, _ write: (inout JSONSpanWriter) -> Void) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var writer = JSONSpanWriter(base: base.bindMemory(to: UInt8.self, capacity: buffer.count), capacity: buffer.count)
        write(&writer)
        return writer.count
    }

    /// The most bytes `integer` or `thousandths` can write.
    public static let numberBound = 22

    /// ASCII text that needs no escaping (keys and punctuation written by justgate itself).
    @inlinable @inline(__always)
    public mutating func raw(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        precondition(count + length <= capacity, "JSONSpanWriter: the upper bound given was too small")
        (base + count).update(from: text.utf8Start, count: length)
        count += length
    }

    @inlinable @inline(__always)
    public mutating func byte(_ value: UInt8) {
        precondition(count < capacity, "JSONSpanWriter: the upper bound given was too small")
        base[count] = value
        count += 1
    }

    /// A JSON string literal of UTF-8 `bytes`, escaped as ``JSONEscaping`` says, or `null` for `nil`.
    @inlinable
    public mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>?) {
        guard let bytes else { return raw("null") }
        byte(0x22)
        escaped(bytes)
        byte(0x22)
    }

    /// A decimal integer, or `null`.
    @inlinable
    public mutating func integer(_ value: Int?) {
        guard let value else { return raw("null") }
        if value < 0 { byte(0x2D) }
        digits(value.magnitude)
    }

    /// `thousandths / 1000` with exactly three decimals (`12.034`), or `null`: durations in milliseconds.
    @inlinable
    public mutating func thousandths(_ value: Int?) {
        guard let value else { return raw("null") }
        if value < 0 { byte(0x2D) }
        let magnitude = value.magnitude
        digits(magnitude / 1000)
        let fraction = Int(magnitude % 1000)
        byte(0x2E)
        byte(UInt8(0x30 + fraction / 100))
        byte(UInt8(0x30 + fraction / 10 % 10))
        byte(UInt8(0x30 + fraction % 10))
    }

    @inlinable
    mutating func digits(_ value: UInt) {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            var rest = value
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(0x30 + rest % 10)
                rest /= 10
            } while rest > 0
            for position in index..<buffer.count { byte(buffer[position]) }
        }
    }

    @inlinable
    mutating func escaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        JSONEscaping.walk(bytes, run: { run in
            guard let source = run.baseAddress else { return }
            precondition(count + run.count <= capacity, "JSONSpanWriter: the upper bound given was too small")
            ShortCopy.copy(UnsafeRawPointer(source), to: UnsafeMutableRawPointer(base + count), count: run.count)
            count += run.count
        }, escape: { value in
            JSONEscaping.sequence(for: value) { byte($0) }
        })
    }
}
