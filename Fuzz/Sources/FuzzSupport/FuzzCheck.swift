#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the process with a message when a fuzzing property is violated.
///
/// libFuzzer treats SIGABRT as a crash and saves the input, so a violated property becomes a reproducible crash
/// file; the message on stderr says which property failed and with what values, which `precondition` would not.
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if condition() { return }
    fuzzFail(message(), file: file, line: line)
}

/// Reports a violated property and aborts; see ``fuzzCheck(_:_:file:line:)``.
public func fuzzFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    // write(2) on fd 2 rather than fputs(stderr): the C global is shared mutable state to Swift 6.
    let report = Array("FUZZ PROPERTY VIOLATED at \(file):\(line): \(message)\n".utf8)
    _ = report.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Shows bytes as a Swift-style escaped string so a failure message can be pasted into a test.
public func escaped(_ bytes: some Sequence<UInt8>) -> String {
    var out = "\""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\\"): out += "\\\\"
        case UInt8(ascii: "\""): out += "\\\""
        case 0x0D: out += "\\r"
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out + "\""
}

/// `escaped` for text.
public func escaped(_ text: String) -> String {
    escaped(text.utf8)
}

/// Byte-for-byte equality: `String ==` compares canonically equivalent text as equal ("é" and "e" + U+0301),
/// which would hide a normalisation that changes the bytes forwarded upstream.
public func identical(_ a: String, _ b: String) -> Bool {
    a.utf8.elementsEqual(b.utf8)
}

/// Byte-for-byte equality of two field lists, names and values in order.
public func identical(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { identical($0.name, $1.name) && identical($0.value, $1.value) }
}
