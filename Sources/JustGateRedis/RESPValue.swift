import JustGateHTTP

/// One RESP2 reply from Redis. Only what the rate limiter's commands can answer is modelled; a
/// reply of another shape is a protocol error, not something to guess at.
public enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    /// `nil` is Redis's null bulk string.
    case bulk([UInt8]?)
    /// `nil` is Redis's null array.
    case array([RESPValue]?)

    /// The error's first word (`NOSCRIPT`, `NOAUTH`, `WRONGPASS`, `ERR`), for deciding what to do.
    public var errorCode: Substring? {
        guard case .error(let text) = self else { return nil }
        return text.split(separator: " ", maxSplits: 1).first
    }
}

/// Commands as RESP arrays of bulk strings, the only form a client needs to send.
public enum RESPEncoder {
    public static func append(command arguments: [String], to out: inout [UInt8]) {
        out.append(0x2A)
        appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(0x24)
            appendDecimal(argument.utf8.count, to: &out)
            out.append(contentsOf: argument.utf8)
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    /// The same for arguments that are bytes (a stored answer's body need not be UTF-8).
    public static func append(command arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(0x2A)
        appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(0x24)
            appendDecimal(argument.count, to: &out)
            out.append(contentsOf: argument)
            out.append(0x0D)
            out.append(0x0A)
        }
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        DecimalDigits.append(value, to: &out)
        out.append(0x0D)
        out.append(0x0A)
    }
}
