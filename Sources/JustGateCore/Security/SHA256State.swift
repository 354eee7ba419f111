import CSHA256

/// A SHA-256 in progress, as a plain value on the stack: copying it (to start an audit record's HMAC from
/// the keyed pads) is a copy of 112 bytes, with no allocation. libcrypto's, through `CSHA256` (see CSHA256.c
/// for why); every SHA-256 justgate computes goes through it (site keys, the audit chain, idempotency
/// fingerprints).
struct SHA256State {
    private var state = jg_sha256_state()

    init() {
        jg_sha256_start(&state)
    }

    /// The digest of `bytes` in one go.
    static func digest(of bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var hash = SHA256State()
        hash.add(bytes)
        var digest = SHA256Digest()
        hash.finish(into: &digest)
        return digest
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        jg_sha256_add(&state, bytes.baseAddress, bytes.count)
    }

    /// Writes the digest; the state is spent afterwards.
    mutating func finish(into digest: inout SHA256Digest) {
        digest.withMutableBytes { jg_sha256_finish(&state, $0.baseAddress) }
    }
}

/// The 32 bytes of a SHA-256 digest, on the stack.
struct SHA256Digest {
    private var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: bytes, body)
    }

    mutating func withMutableBytes(_ body: (UnsafeMutableRawBufferPointer) -> Void) {
        withUnsafeMutableBytes(of: &bytes, body)
    }

    /// Appends the 64 lowercase hex digits.
    func appendHex(to out: inout [UInt8]) {
        withBytes { SiteKeyHex.append($0, to: &out) }
    }
}
