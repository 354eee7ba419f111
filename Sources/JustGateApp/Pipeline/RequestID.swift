/// Request ids: the site's own `X-Request-Id` when it is sane, so one id follows a call through
/// the site's logs, ours and the upstream's; otherwise a new one.
struct RequestIDGenerator {
    private var prefix: UInt64
    private var counter: UInt64 = 0

    init() {
        var generator = SystemRandomNumberGenerator()
        prefix = generator.next()
    }

    /// 32 lowercase hex digits: a random per-loop prefix and a counter, unique without a syscall per request.
    mutating func next() -> String {
        counter &+= 1
        return RequestIDGenerator.hex(prefix) + RequestIDGenerator.hex(counter)
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

    private static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0x30, count: 16)
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            bytes[index] = digits[Int(rest & 0xF)]
            rest >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
