import W3CTraceContext

extension TraceContext {
    /// The `traceparent` value ("00-<trace id>-<span id>-<flags>", 55 characters), written straight into
    /// one string's storage. The library's `traceParentHeaderValue` builds it by interpolation from a
    /// hex array and a string per id and one for the flags: five allocations on every forwarded request.
    var traceParentText: String {
        String(unsafeUninitializedCapacity: 55) { out in
            out[0] = 0x30  // "00-": version 00, the only one written
            out[1] = 0x30
            out[2] = 0x2D
            withUnsafeBytes(of: traceID.bytes) { TraceParentText.writeHex($0, into: out, at: 3) }
            out[35] = 0x2D
            withUnsafeBytes(of: spanID.bytes) { TraceParentText.writeHex($0, into: out, at: 36) }
            out[52] = 0x2D
            TraceParentText.writeHex(flags.rawValue, into: out, at: 53)
            return 55
        }
    }
}

extension TraceID {
    /// The 32 lowercase hex digits of the id, for the log line and the audit record, written straight into one
    /// string's storage: the library's `description` goes through a hex array first (an allocation and a
    /// runtime generic-metadata lookup on every request).
    var hexText: String {
        String(unsafeUninitializedCapacity: 32) { out in
            withUnsafeBytes(of: bytes) { TraceParentText.writeHex($0, into: out, at: 0) }
            return 32
        }
    }
}

/// Lowercase hex digits, as W3C Trace Context requires.
enum TraceParentText {
    static func writeHex(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var position = start
        for byte in bytes {
            writeHex(byte, into: out, at: position)
            position += 2
        }
    }

    static func writeHex(_ byte: UInt8, into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) {
        out[position] = digit(byte >> 4)
        out[position + 1] = digit(byte & 0x0F)
    }

    @inline(__always)
    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
    }
}
