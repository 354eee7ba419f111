/// Streaming decoder for `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
///
/// It is a byte-level state machine so that input may be split anywhere (one byte per read included) without
/// buffering or rescanning, and it is strict about every delimiter because lenient chunk parsing is the most common
/// request-smuggling vector: a proxy and this server must never disagree about where the body ends.
public struct ChunkedBodyDecoder: Sendable {
    /// Longest chunk-size line (size plus extensions) accepted; extensions carry nothing this server uses.
    static let maxChunkLineBytes = 4096
    /// Largest trailer section accepted; trailers are read only to find the end of the message and then dropped.
    static let maxTrailerBytes = 8192

    fileprivate enum State: Sendable {
        case sizeStart, size, afterSize
        case extensionNameStart, extensionName, afterExtensionName
        case extensionValueStart, extensionToken, quoted, quotedPair, afterQuoted, afterExtensionValue
        case sizeLineLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerLine, trailerLineLF, finalLF
        case done
    }

    private let maxBodyBytes: Int
    private var state = State.sizeStart
    private var chunkSize = 0
    private var remaining = 0
    private var decodedBytes = 0
    private var lineBytes = 0
    private var trailerBytes = 0

    /// Creates a decoder that refuses bodies larger than `maxBodyBytes` with 413 (and chunk sizes too
    /// large to be numbers with 400).
    public init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether the last chunk and trailer section have been consumed.
    public var isDone: Bool { state == .done }

    /// Decodes as much of `input` as possible, appending data to `body`. done == true once the last chunk and the
    /// trailer section (accepted and discarded, bounded) are consumed. Bytes after `consumed` belong to the next
    /// request. Throws 400 for malformed framing (an overflowing chunk size included) and 413 when the body would exceed
    /// the limit.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer, into body: inout [UInt8]
    ) throws(HTTPParseError) -> (consumed: Int, done: Bool) {
        var index = 0
        while index < input.count, state != .done {
            if state == .data {
                let take = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<index + take]))
                index += take
                remaining -= take
                if remaining == 0 { state = .dataCR }
                continue
            }
            try step(input[index])
            index += 1
        }
        return (index, state == .done)
    }

    private static func malformed(_ what: String) -> HTTPParseError {
        .badRequest("Malformed chunked body: \(what).")
    }

    /// Advances the state machine over one framing byte (everything except chunk data).
    private mutating func step(_ byte: UInt8) throws(HTTPParseError) {
        if state.isInSizeLine {
            lineBytes += 1
            if lineBytes > Self.maxChunkLineBytes { throw Self.malformed("a chunk-size line is too long") }
        }
        switch state {
        case .sizeStart, .size:
            if let digit = ASCII.hexValue(byte) {
                try appendSizeDigit(digit)
                state = .size
            } else if state == .sizeStart {
                throw Self.malformed("expected a hexadecimal chunk size")
            } else {
                try afterSizeByte(byte)
            }
        case .afterSize:
            if ASCII.isWhitespace(byte) { return }
            guard byte == ASCII.semicolon else { throw Self.malformed("whitespace after a chunk size must precede ';'") }
            state = .extensionNameStart
        case .extensionNameStart:
            if ASCII.isWhitespace(byte) { return }
            guard ASCII.isTokenChar(byte) else { throw Self.malformed("a chunk extension needs a token name") }
            state = .extensionName
        case .extensionName, .afterExtensionName:
            try extensionNameByte(byte)
        case .extensionValueStart:
            if ASCII.isWhitespace(byte) { return }
            if byte == ASCII.quote {
                state = .quoted
            } else if ASCII.isTokenChar(byte) {
                state = .extensionToken
            } else {
                throw Self.malformed("a chunk extension value must be a token or a quoted string")
            }
        case .extensionToken, .afterQuoted:
            if state == .extensionToken, ASCII.isTokenChar(byte) { return }
            try afterValueByte(byte, lineMayEnd: true)
        case .quoted:
            if byte == ASCII.quote {
                state = .afterQuoted
            } else if byte == ASCII.backslash {
                state = .quotedPair
            } else if !ASCII.isQuotedTextByte(byte) {
                throw Self.malformed("a quoted chunk extension value contains a control character")
            }
        case .quotedPair:
            guard ASCII.isFieldValueByte(byte) else { throw Self.malformed("invalid escaped character in a chunk extension") }
            state = .quoted
        case .afterExtensionValue:
            try afterValueByte(byte, lineMayEnd: false)
        case .sizeLineLF:
            guard byte == ASCII.lf else { throw Self.malformed("a chunk-size line must end with CRLF") }
            lineBytes = 0
            if chunkSize == 0 {
                state = .trailerLineStart
            } else {
                remaining = chunkSize
                state = .data
            }
        case .data:
            break  // handled in bulk by decode
        case .dataCR:
            guard byte == ASCII.cr else { throw Self.malformed("chunk data must be followed by CRLF (the chunk size does not match its data)") }
            state = .dataLF
        case .dataLF:
            guard byte == ASCII.lf else { throw Self.malformed("chunk data must be followed by CRLF") }
            chunkSize = 0
            state = .sizeStart
        case .trailerLineStart, .trailerLine:
            try trailerByte(byte)
        case .trailerLineLF, .finalLF:
            guard byte == ASCII.lf else { throw Self.malformed("trailer lines must end with CRLF") }
            state = state == .finalLF ? .done : .trailerLineStart
        case .done:
            break
        }
    }

    /// A size that does not fit in an integer is malformed framing (400), not a large body: no
    /// sender can mean it. The size is compared with the body limit once all its digits are read.
    private mutating func appendSizeDigit(_ digit: Int) throws(HTTPParseError) {
        let (shifted, overflowA) = chunkSize.multipliedReportingOverflow(by: 16)
        let (sum, overflowB) = shifted.addingReportingOverflow(digit)
        guard !overflowA, !overflowB else { throw Self.malformed("a chunk size does not fit in 63 bits") }
        chunkSize = sum
    }

    private mutating func afterSizeByte(_ byte: UInt8) throws(HTTPParseError) {
        guard chunkSize <= maxBodyBytes - decodedBytes else {
            throw HTTPParseError(status: 413, reason: "The request body is larger than the \(maxBodyBytes) bytes this server accepts.")
        }
        decodedBytes += chunkSize
        switch byte {
        case ASCII.cr: state = .sizeLineLF
        case ASCII.semicolon: state = .extensionNameStart
        case ASCII.space, ASCII.tab: state = .afterSize
        default: throw Self.malformed("a chunk size must be hexadecimal digits")
        }
    }

    private mutating func extensionNameByte(_ byte: UInt8) throws(HTTPParseError) {
        if state == .extensionName, ASCII.isTokenChar(byte) { return }
        switch byte {
        case ASCII.space, ASCII.tab: state = .afterExtensionName
        case ASCII.equals: state = .extensionValueStart
        case ASCII.semicolon: state = .extensionNameStart
        case ASCII.cr where state == .extensionName: state = .sizeLineLF
        default: throw Self.malformed("invalid character in a chunk extension")
        }
    }

    /// After an extension value only another ";" extension may follow (with BWS before it), or the line end
    /// directly: RFC 9112 allows BWS before ";" and "=", not before CRLF.
    private mutating func afterValueByte(_ byte: UInt8, lineMayEnd: Bool) throws(HTTPParseError) {
        switch byte {
        case ASCII.space, ASCII.tab: state = .afterExtensionValue
        case ASCII.semicolon: state = .extensionNameStart
        case ASCII.cr where lineMayEnd: state = .sizeLineLF
        default: throw Self.malformed("invalid character after a chunk extension value")
        }
    }

    private mutating func trailerByte(_ byte: UInt8) throws(HTTPParseError) {
        trailerBytes += 1
        if trailerBytes > Self.maxTrailerBytes {
            throw HTTPParseError(status: 431, reason: "The chunked trailer section is larger than \(Self.maxTrailerBytes) bytes.")
        }
        if byte == ASCII.cr {
            state = state == .trailerLineStart ? .finalLF : .trailerLineLF
        } else if ASCII.isFieldValueByte(byte) {
            if state == .trailerLineStart, ASCII.isWhitespace(byte) {
                throw Self.malformed("trailer lines must not start with whitespace")
            }
            state = .trailerLine
        } else {
            throw Self.malformed("a trailer line contains a control character or bare LF")
        }
    }
}

extension ChunkedBodyDecoder.State {
    fileprivate var isInSizeLine: Bool {
        switch self {
        case .sizeStart, .size, .afterSize, .extensionNameStart, .extensionName, .afterExtensionName,
            .extensionValueStart, .extensionToken, .quoted, .quotedPair, .afterQuoted, .afterExtensionValue, .sizeLineLF:
            true
        default:
            false
        }
    }
}
