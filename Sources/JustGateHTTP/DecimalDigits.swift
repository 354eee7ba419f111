/// Integers written as ASCII decimal straight into a byte buffer: a status line, a `Content-Length`, a RESP
/// length prefix and a JSON number all need it per request, and `String(Int)` goes through a protocol's
/// `description` (~200 instructions) and a temporary string each time.
public enum DecimalDigits {
    /// Appends `value` in decimal (a leading `-` when negative), its digits written back to front in 20
    /// bytes on the stack.
    @inlinable
    public static func append(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(0x2D) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: 0x30 &+ magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }
}
