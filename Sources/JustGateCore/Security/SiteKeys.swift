/// Making and hashing site keys: the keys sites present, of which the gateway stores only SHA-256 hashes.
///
/// A key is 32 random bytes in base64url, so it is unguessable, fits in a header without escaping and hashes to
/// a fixed-size value that `SiteKeyTable` can compare in constant time.
public enum SiteKeys {
    /// Lowercase hex SHA-256 of the key's UTF-8 bytes: the value to put in `key_sha256`.
    public static func sha256Hex(_ key: String) -> String {
        SiteKeyHex.encode(sha256(key))
    }

    /// The 32-byte SHA-256 of the key's UTF-8 bytes.
    public static func sha256(_ key: some StringProtocol) -> [UInt8] {
        let digest = key.utf8.withContiguousStorageIfAvailable { SHA256State.digest(of: UnsafeRawBufferPointer($0)) }
            ?? Array(key.utf8).withUnsafeBytes { SHA256State.digest(of: $0) }
        return digest.withBytes { Array($0) }
    }

    /// A new key: 32 bytes from the system's secure random source, base64url without padding (43 characters).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    /// A new key from the given generator; lets tests check the encoding with a seeded generator.
    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return base64URLEncoded(bytes)
    }

    /// RFC 4648 §5 base64url without `=` padding.
    static func base64URLEncoded(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            if remaining > 1 { output.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if remaining > 2 { output.append(alphabet[Int(group & 0x3F)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Hex encoding for key hashes, kept here so the config loader and `SiteKeys` agree on one spelling.
public enum SiteKeyHex {
    /// Lowercase hex of the bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { append($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the lowercase hex of `bytes`, written as one run rather than byte by byte (the audit writer
    /// hexes a hash per record).
    public static func append(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 2) { hex in
            for (index, byte) in bytes.enumerated() {
                hex[2 * index] = digit(byte >> 4)
                hex[2 * index + 1] = digit(byte & 0x0F)
            }
            out.append(contentsOf: hex)
        }
    }

    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }

    /// Bytes of an even-length hex string in either case; `nil` on any other character.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
