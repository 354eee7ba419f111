/// Computes a record's `hash`: HMAC-SHA-256 with the audit key, so only a holder of the key can write a record
/// that verifies; or plain SHA-256 when no key is configured, which still catches accidents and careless edits
/// but not someone who recomputes the chain (check-config says so).
///
/// Not `Sendable` (it holds the keyed pads); a hasher lives on the writer thread or in `verify`.
public struct AuditHasher {
    /// HMAC keyed once: keying derives the inner and outer pads, and redoing that for every record was a
    /// visible share of the writer thread's time.
    private let keyed: KeyedSHA256?

    /// - Parameter key: the audit key's bytes; `nil` for a plain SHA-256 chain.
    public init(key: [UInt8]?) {
        self.keyed = key.map(KeyedSHA256.init)
    }

    /// Whether records are signed with a key.
    public var isKeyed: Bool { keyed != nil }

    /// Lowercase hex of the hash of `canonical`.
    public func hash(_ canonical: [UInt8]) -> String {
        var hex: [UInt8] = []
        canonical.withUnsafeBytes { appendHash(of: $0, to: &hex) }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Appends the 64 lowercase hex digits of the hash of `canonical` to `out`, with no `String` in between:
    /// the writer thread hashes every record straight out of the buffer it is writing.
    public func appendHash(of canonical: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var digest = SHA256Digest()
        if let keyed {
            keyed.authenticate(canonical, into: &digest)
        } else {
            digest = SHA256State.digest(of: canonical)
        }
        digest.appendHex(to: &out)
    }

    /// The plain SHA-256 of `canonical`, to recognise a record re-signed by someone without the key.
    public static func plainHash(_ canonical: [UInt8]) -> String {
        AuditHasher(key: nil).hash(canonical)
    }
}

/// HMAC-SHA-256 (RFC 2104) with both pads hashed once at keying: per message, the same two hashes with
/// nothing around them. Tested equal to swift-crypto's `HMAC<SHA256>` for keys shorter than, equal to and
/// longer than a block.
struct KeyedSHA256 {
    private let inner: SHA256State
    private let outer: SHA256State

    init(key: [UInt8]) {
        var block = [UInt8](repeating: 0, count: 64)
        if key.count > 64 {
            key.withUnsafeBytes { SHA256State.digest(of: $0) }.withBytes { digest in
                for index in 0..<digest.count { block[index] = digest[index] }
            }
        } else {
            for index in key.indices { block[index] = key[index] }
        }
        var inner = SHA256State()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.add($0) }
        var outer = SHA256State()
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.add($0) }
        self.inner = inner
        self.outer = outer
    }

    /// The HMAC of `message`, into `digest`.
    func authenticate(_ message: UnsafeRawBufferPointer, into digest: inout SHA256Digest) {
        var innerHash = inner
        innerHash.add(message)
        var innerDigest = SHA256Digest()
        innerHash.finish(into: &innerDigest)
        var outerHash = outer
        innerDigest.withBytes { outerHash.add($0) }
        outerHash.finish(into: &digest)
    }

    /// The HMAC of `message` as bytes (for tests against other implementations).
    func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = SHA256Digest()
        authenticate(message, into: &digest)
        return digest.withBytes { Array($0) }
    }
}
