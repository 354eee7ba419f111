/// Little-endian fields of an outbox record's payload: lengths before variable parts, so a reader never guesses.
struct OutboxByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func u32(_ value: UInt32) { OutboxByteWriter.appendU32(value, to: &bytes) }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func bytes(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) { bytes(Array(value.utf8)) }

    mutating func optionalString(_ value: String?) {
        guard let value else { return byte(0) }
        byte(1)
        string(value)
    }

    /// The delivery state shared by entry and update records.
    mutating func state(_ update: OutboxUpdate) {
        byte(OutboxByteWriter.stateCodes[update.state] ?? 0)
        u32(UInt32(clamping: update.attempts))
        u64(UInt64(bitPattern: update.nextAttemptAtMs))
        u32(UInt32(clamping: update.lastStatus ?? 0))
        bytes(update.lastBody)
        optionalString(update.lastFailure)
    }

    static let stateCodes: [OutboxEntry.State: UInt8] = [.pending: 0, .delivered: 1, .dead: 2]

    static func appendU32(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 24))
    }
}

/// Reads what `OutboxByteWriter` wrote; every read returns nil past the end, so damage is a failed decode.
struct OutboxByteReader {
    private let input: ArraySlice<UInt8>
    private var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.input = bytes
        self.offset = bytes.startIndex
    }

    var isAtEnd: Bool { offset == input.endIndex }

    mutating func byte() -> UInt8? {
        guard offset < input.endIndex else { return nil }
        defer { offset += 1 }
        return input[offset]
    }

    mutating func u32() -> UInt32? {
        guard input.endIndex - offset >= 4 else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(input[offset + index]) << UInt32(8 * index) }
        offset += 4
        return value
    }

    mutating func u64() -> UInt64? {
        guard input.endIndex - offset >= 8 else { return nil }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(input[offset + index]) << UInt64(8 * index) }
        offset += 8
        return value
    }

    mutating func bytes() -> [UInt8]? {
        guard let count = u32().map(Int.init), input.endIndex - offset >= count else { return nil }
        defer { offset += count }
        return Array(input[offset..<(offset + count)])
    }

    mutating func string() -> String? {
        bytes().map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func optionalString() -> String?? {
        switch byte() {
        case 0: return .some(nil)
        case 1: return string().map { .some($0) }
        default: return nil
        }
    }

    mutating func state(id: String) -> OutboxUpdate? {
        guard let code = byte(),
              let state = OutboxByteWriter.stateCodes.first(where: { $0.value == code })?.key,
              let attempts = u32(), let next = u64(), let status = u32(), let body = bytes(),
              let failure = optionalString()
        else { return nil }
        return OutboxUpdate(id: id, state: state, attempts: Int(attempts), nextAttemptAtMs: Int64(bitPattern: next),
                            lastStatus: status == 0 ? nil : Int(status), lastBody: body, lastFailure: failure)
    }
}

/// CRC-32 (IEEE 802.3, as zlib and PNG): enough to tell a whole record from a torn one. Not a defence
/// against tampering, which the outbox does not claim; whoever can write the files can write records.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
