#if canImport(Glibc)
import Glibc
#endif

/// A failed system call at the socket edge, with the operation and `errno` text so an operator
/// can tell "address already in use" from "permission denied" without a debugger.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        let text = strerror(code).map { String(cString: $0) } ?? "error \(code)"
        return "\(operation) failed: \(text)"
    }
}
