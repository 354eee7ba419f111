/// Removes a secret from bytes that are about to leave the gateway.
///
/// The upstream token is sent upstream on every call; an upstream that echoes its input (a debug
/// page, a misconfigured proxy, a compromised host) would hand it to the site in the answer. The
/// gateway replaces every occurrence before relaying, in the forms `TokenEchoScanner` knows.
public enum SecretRedaction {
    /// What a secret is replaced with.
    public static let replacement: [UInt8] = Array("[redacted]".utf8)

    /// `bytes` with every occurrence of `secret` replaced by `[redacted]`, or nil when there is none
    /// (the common case, which copies nothing).
    public static func redact(_ secret: String, in bytes: [UInt8]) -> [UInt8]? {
        redact(Array(secret.utf8), in: bytes)
    }

    /// Whether `text` holds `secret` in any form `redact` would replace. Text shorter than the secret cannot
    /// (every form is at least as long), so a short `Content-Type`, checked on every answer, costs no copy.
    public static func contains(_ secret: [UInt8], in text: String) -> Bool {
        guard !secret.isEmpty, text.utf8.count >= secret.count else { return false }
        return !TokenEchoScanner.ranges(of: secret, in: Array(text.utf8)).isEmpty
    }

    /// The same for a secret already in bytes (made once per site, not once per answer). Finds the secret
    /// in any ASCII case, JSON-escaped and split by line breaks (`TokenEchoScanner`); each occurrence,
    /// escapes and breaks included, becomes one `[redacted]`.
    public static func redact(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8]? {
        let ranges = TokenEchoScanner.ranges(of: needle, in: bytes)
        guard !ranges.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var copied = 0
        for range in ranges {
            out.append(contentsOf: bytes[copied..<range.lowerBound])
            out.append(contentsOf: replacement)
            copied = range.upperBound
        }
        out.append(contentsOf: bytes[copied...])
        return out
    }
}
