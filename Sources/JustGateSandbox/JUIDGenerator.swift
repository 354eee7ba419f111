/// Issues new JUIDs in the upstream's format: 32 lowercase hexadecimal digits (128 random bits).
enum JUIDGenerator {
    /// A fresh random JUID; the system generator is cryptographically secure, so collisions are negligible.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".unicodeScalars)
        var text = ""
        text.unicodeScalars.reserveCapacity(32)
        for _ in 0..<2 {
            var word = generator.next() as UInt64
            for _ in 0..<16 {
                text.unicodeScalars.append(digits[Int(word & 0x0F)])
                word >>= 4
            }
        }
        return text
    }
}
