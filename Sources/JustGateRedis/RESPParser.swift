/// Reads RESP2 replies from bytes as they arrive: `parse` answers one whole reply and how many
/// bytes it took, `nil` when the reply is not complete yet, or throws when the bytes cannot be
/// RESP (then the connection is beyond repair and is closed).
///
/// Bounded on purpose: the replies the limiter expects are a few integers, so an oversized bulk
/// string or a deeply nested array means the other end is not the Redis we think it is.
public struct RESPParser: Sendable {
    public var maxBulkBytes = 1 << 20
    public var maxArrayCount = 4096
    public var maxDepth = 4

    public init() {}

    public struct ProtocolError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtocolError) -> (value: RESPValue, consumed: Int)? {
        var offset = 0
        guard let value = try value(bytes, &offset, depth: 0) else { return nil }
        return (value, offset)
    }

    private func value(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int, depth: Int) throws(ProtocolError) -> RESPValue? {
        guard offset < bytes.count else { return nil }
        let type = bytes[offset]
        guard let lineEnd = lineEnd(bytes, from: offset + 1) else {
            if bytes.count - offset > 64 * 1024 { throw ProtocolError(description: "a RESP header line over 64 KiB") }
            return nil
        }
        let line = UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<lineEnd])
        let next = lineEnd + 2
        switch type {
        case 0x2B: // +
            offset = next
            return .simple(String(decoding: line, as: UTF8.self))
        case 0x2D: // -
            offset = next
            return .error(String(decoding: line, as: UTF8.self))
        case 0x3A: // :
            guard let number = integer(line) else { throw ProtocolError(description: "an integer reply that is not a number") }
            offset = next
            return .integer(number)
        case 0x24: // $
            guard let length = integer(line), length >= -1, length <= Int64(maxBulkBytes) else {
                throw ProtocolError(description: "a bulk string length out of range")
            }
            if length == -1 {
                offset = next
                return .bulk(nil)
            }
            let end = next + Int(length)
            guard end + 2 <= bytes.count else { return nil }
            guard bytes[end] == 0x0D, bytes[end + 1] == 0x0A else {
                throw ProtocolError(description: "a bulk string not followed by CRLF")
            }
            offset = end + 2
            return .bulk(Array(bytes[next..<end]))
        case 0x2A: // *
            guard let count = integer(line), count >= -1, count <= Int64(maxArrayCount) else {
                throw ProtocolError(description: "an array length out of range")
            }
            guard depth < maxDepth else { throw ProtocolError(description: "arrays nested too deeply") }
            if count == -1 {
                offset = next
                return .array(nil)
            }
            var cursor = next
            var items: [RESPValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let item = try value(bytes, &cursor, depth: depth + 1) else { return nil }
                items.append(item)
            }
            offset = cursor
            return .array(items)
        default:
            throw ProtocolError(description: "an unknown reply type byte \(type)")
        }
    }

    private func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }

    private func integer(_ line: UnsafeRawBufferPointer) -> Int64? {
        guard !line.isEmpty, line.count <= 20 else { return nil }
        var negative = false
        var value: Int64 = 0
        for (index, byte) in line.enumerated() {
            if index == 0 && byte == 0x2D { negative = true; continue }
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        if negative && line.count == 1 { return nil }
        return negative ? -value : value
    }
}
