import JustGateCore
import JustGateHTTP

/// Reading a request's credential and path from its head, allocation-free: this runs for every request,
/// in the screen phase (`RequestDriver.screen`).
enum SiteCredentials {
    /// Two different credentials in one request (see `presentedKey`).
    struct Ambiguous: Error {}

    /// The site key the request presents, from `X-AUTH-TOKEN` or `Authorization: Bearer`. Two
    /// credentials that differ are refused: whichever one a check took first, another part of the
    /// chain (a proxy, a log) could take the other.
    ///
    /// One walk over the headers, allocating nothing but the key it returns.
    static func presentedKey(_ head: HTTPRequestHead) throws(Ambiguous) -> String? {
        var presented: String?
        for header in head.headers {
            let candidate: String?
            if isNamed(header, "x-auth-token") {
                candidate = header.value
            } else if isNamed(header, "authorization") {
                candidate = bearerToken(header.value)
            } else {
                continue
            }
            guard let candidate else { continue }
            if let presented, presented != candidate { throw Ambiguous() }
            presented = candidate
        }
        return presented
    }

    /// Whether the path has `%2F` or `%2f`: one pass over the path's contiguous bytes (`firstIndex(of:)` on a
    /// `Substring`'s UTF-8 view walked index by index at ~3k instructions a request).
    static func containsEncodedSlash(_ path: Substring) -> Bool {
        // `withUTF8`, not `utf8.withContiguousStorageIfAvailable`: on a `Substring` that runs unspecialised.
        var path = path
        return path.withUTF8(encodedSlashIn)
    }

    private static func encodedSlashIn(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 3 else { return false }
        for index in 0..<(bytes.count - 2) where bytes[index] == 0x25 {
            if bytes[index + 1] == 0x32 && (bytes[index + 2] == 0x46 || bytes[index + 2] == 0x66) { return true }
        }
        return false
    }

    /// Whether a header is called `lowercaseName`, compared without allocating.
    private static func isNamed(_ header: HTTPHeader, _ lowercaseName: StaticString) -> Bool {
        let name = header.name.utf8
        guard name.count == lowercaseName.utf8CodeUnitCount else { return false }
        return lowercaseName.withUTF8Buffer { expected in
            name.elementsEqual(expected) { byte, lower in (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == lower }
        }
    }

    private static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1].trimmingASCIISpaces())
    }
}
