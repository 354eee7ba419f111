/// Removes a secret from bytes that are about to leave the gateway.
///
/// The upstream token is sent upstream on every call; an upstream that echoes its input (a debug
/// page, a misconfigured proxy, a compromised host) would hand it to the site in the answer. The
/// gateway replaces every occurrence before relaying.
public enum SecretRedaction {
    /// What a secret is replaced with.
    public static let replacement: [UInt8] = Array("[redacted]".utf8)

    /// `bytes` with every occurrence of `secret` replaced by `[redacted]`, or nil when there is none
    /// (the common case, which copies nothing).
    public static func redact(_ secret: String, in bytes: [UInt8]) -> [UInt8]? {
        redact(Array(secret.utf8), in: bytes)
    }

    /// The same for a secret already in bytes (made once per site, not once per answer).
    public static func redact(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8]? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        guard var match = firstOccurrence(of: needle, in: bytes, from: 0) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var copied = 0
        while true {
            out.append(contentsOf: bytes[copied..<match])
            out.append(contentsOf: replacement)
            copied = match + needle.count
            guard let next = firstOccurrence(of: needle, in: bytes, from: copied) else { break }
            match = next
        }
        out.append(contentsOf: bytes[copied...])
        return out
    }

    private static func firstOccurrence(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count - start >= needle.count else { return nil }
        let first = needle[0]
        return bytes.withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { pattern in
                var index = start
                let last = haystack.count - pattern.count
                while index <= last {
                    if haystack[index] == first {
                        var offset = 1
                        while offset < pattern.count && haystack[index + offset] == pattern[offset] { offset += 1 }
                        if offset == pattern.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}
