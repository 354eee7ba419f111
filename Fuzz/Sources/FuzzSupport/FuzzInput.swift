/// The bytes libFuzzer hands to `LLVMFuzzerTestOneInput`, with the small readers the targets need to take a
/// selector or split point off the front before the payload.
public struct FuzzInput {
    /// The whole input.
    public let bytes: UnsafeRawBufferPointer

    /// Wraps libFuzzer's pointer and size; the memory is only valid during the call.
    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    /// The first `count` bytes as a big-endian number, and the rest; nil when the input is shorter.
    public func splitPrefix(_ count: Int) -> (prefix: Int, rest: UnsafeRawBufferPointer)? {
        guard bytes.count >= count else { return nil }
        var value = 0
        for index in 0..<count { value = value << 8 | Int(bytes[index]) }
        return (value, UnsafeRawBufferPointer(rebasing: bytes[count...]))
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes from `offset` to the end, as a buffer starting at index 0.
    public func tail(from offset: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[offset...])
    }

    /// The first `count` bytes, as a buffer.
    public func head(_ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self[..<count])
    }
}
