/// Request ids: the site's own `X-Request-Id` when it is sane, so one id follows a call through
/// the site's logs, ours and the upstream's; otherwise a new one.
struct RequestIDGenerator {
    private var prefix: UInt64
    private var counter: UInt64 = 0

    init() {
        var generator = SystemRandomNumberGenerator()
        prefix = generator.next()
    }

    /// 32 lowercase hex digits: a random per-loop prefix and a counter, unique without a syscall per
    /// request. Written straight into the string's storage: this runs for every request.
    mutating func next() -> String {
        counter &+= 1
        let prefix = self.prefix, counter = self.counter
        return String(unsafeUninitializedCapacity: 32) { buffer in
            RequestIDGenerator.writeHex(prefix, into: buffer, at: 0)
            RequestIDGenerator.writeHex(counter, into: buffer, at: 16)
            return 32
        }
    }

    /// Accepts 1–128 characters of `[A-Za-z0-9._:-]`; anything else could smuggle text into logs.
    static func isAcceptable(_ candidate: String) -> Bool {
        let utf8 = candidate.utf8
        guard !utf8.isEmpty, utf8.count <= 128 else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x3A
        }
    }

    private static func writeHex(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var rest = value
        for index in stride(from: offset + 15, through: offset, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            buffer[index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            rest >>= 4
        }
    }
}
