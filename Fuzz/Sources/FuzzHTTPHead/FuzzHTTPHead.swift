import FuzzSupport
import JustGateHTTP

/// Fuzzes `HTTPRequestHeadParser` as a connection would drive it.
///
/// The input is a byte stream of pipelined requests. It is parsed twice: once with each request's bytes all
/// present, once growing the buffer one byte at a time (a client trickling its head). Both must produce the same
/// sequence of heads and consumed counts and fail at the same request. Bodies between requests are skipped
/// according to the parsed framing (Content-Length bytes, or the chunked decoder) so the parser also sees what
/// follows a body. Small limits let the fuzzer reach every limit branch with short inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size).bytes
    let whole = connection(input, feed: .whole)
    let trickled = connection(input, feed: .byteAtATime)
    fuzzCheck(whole.count == trickled.count,
        "whole gave \(whole.count) outcomes, byte-at-a-time \(trickled.count)\n whole: \(whole)\n trickled: \(trickled)\n input: \(escaped(input))")
    for (index, (a, b)) in zip(whole, trickled).enumerated() {
        fuzzCheck(agree(whole: a, trickled: b),
            "request \(index): whole \(a) vs byte-at-a-time \(b)\n input: \(escaped(input))")
    }
    return 0
}

let limits = HTTPLimits(
    maxRequestLineBytes: 256, maxHeaderLineBytes: 256, maxHeaderBytes: 1024, maxHeaderCount: 12, maxBodyBytes: 4096)

enum Feed { case whole, byteAtATime }

/// What one call sequence on one request produced, comparable across feeding strategies.
enum Outcome: Equatable, CustomStringConvertible {
    case incomplete
    case failed(status: Int, reason: String)
    case head(Head, consumed: Int)

    var description: String {
        switch self {
        case .incomplete: "incomplete"
        case .failed(let status, let reason): "failed(\(status): \(reason))"
        case .head(let head, let consumed): "head(\(head), consumed: \(consumed))"
        }
    }
}

/// `HTTPRequestHead` is not Equatable; this copy of its fields is.
struct Head: Equatable {
    var method: String
    var target: String
    var versionMinor: Int
    var headers: [HTTPHeader]
    var keepAlive: Bool
    var framing: BodyFraming
    var expectsContinue: Bool

    init(_ head: HTTPRequestHead) {
        method = head.method
        target = head.target
        versionMinor = head.versionMinor
        headers = head.headers
        keepAlive = head.keepAlive
        framing = head.framing
        expectsContinue = head.expectsContinue
    }
}

/// Whole-buffer and trickled parsing may legitimately differ in one way: a line over a limit is refused as soon
/// as the partial line is too long when trickled (414/431), while the whole buffer first meets a later bad byte
/// in that line (400). Everything else must match exactly.
func agree(whole: Outcome, trickled: Outcome) -> Bool {
    if whole == trickled { return true }
    if case .failed = whole, case .failed(let status, _) = trickled, status == 414 || status == 431 { return true }
    return false
}

/// Parses every request in `stream`, skipping bodies, until one is incomplete or fails.
func connection(_ stream: UnsafeRawBufferPointer, feed: Feed) -> [Outcome] {
    var outcomes: [Outcome] = []
    var offset = 0
    while offset < stream.count {
        let rest = stream.tail(from: offset)
        let outcome = parseOne(rest, feed: feed)
        outcomes.append(outcome)
        guard case .head(let head, let consumed) = outcome else { break }
        checkHead(head, consumed: consumed, available: rest.count, stream: stream)
        offset += consumed
        switch head.framing {
        case .none:
            break
        case .contentLength(let length):
            guard length <= stream.count - offset else { return outcomes }
            offset += length
        case .chunked:
            var decoder = ChunkedBodyDecoder(maxBodyBytes: limits.maxBodyBytes)
            var body: [UInt8] = []
            guard let (consumed, done) = try? decoder.decode(stream.tail(from: offset), into: &body), done else {
                return outcomes
            }
            offset += consumed
        }
    }
    return outcomes
}

func parseOne(_ buffer: UnsafeRawBufferPointer, feed: Feed) -> Outcome {
    var parser = HTTPRequestHeadParser(limits: limits)
    do {
        switch feed {
        case .whole:
            if let (head, consumed) = try parser.parse(buffer) { return .head(Head(head), consumed: consumed) }
        case .byteAtATime:
            for length in 1...buffer.count {
                if let (head, consumed) = try parser.parse(buffer.head(length)) {
                    fuzzCheck(consumed == length,
                        "a trickled head completed at byte \(length) but reported consuming \(consumed)")
                    return .head(Head(head), consumed: consumed)
                }
            }
        }
        return .incomplete
    } catch {
        return .failed(status: error.status, reason: error.reason)
    }
}

/// Properties every accepted head must have whatever the input.
func checkHead(_ head: Head, consumed: Int, available: Int, stream: UnsafeRawBufferPointer) {
    let context = "head \(head) consumed \(consumed)\n input: \(escaped(stream))"
    fuzzCheck(consumed >= 4 && consumed <= available, "consumed is outside the buffer: \(context)")
    fuzzCheck(!head.method.isEmpty, "empty method: \(context)")
    fuzzCheck(!head.target.isEmpty, "empty target: \(context)")
    fuzzCheck(head.versionMinor == 0 || head.versionMinor == 1, "version minor not 0 or 1: \(context)")
    fuzzCheck(head.headers.count <= limits.maxHeaderCount, "more headers than the limit: \(context)")
    fuzzCheck(head.headers.allSatisfy { !$0.name.isEmpty }, "a header with an empty name: \(context)")
    if case .contentLength(let length) = head.framing {
        fuzzCheck(length >= 0 && length <= limits.maxBodyBytes, "content length outside 0...limit: \(context)")
    }
    if head.expectsContinue {
        fuzzCheck(head.versionMinor == 1, "Expect: 100-continue honoured on HTTP/1.0: \(context)")
    }
    checkFramingOracle(head, context: context)
}

/// Recomputes framing and Host rules from the accepted header list with a deliberately naive reading of
/// RFC 9112 §6.3 / RFC 9110 §7.2; an accepted head must match it (this is what stops request smuggling).
func checkFramingOracle(_ head: Head, context: String) {
    let transferEncodings = head.headers.all(named: "transfer-encoding")
    let contentLengths = head.headers.all(named: "content-length")
    let hosts = head.headers.all(named: "host")
    if !transferEncodings.isEmpty {
        let codings = listElements(transferEncodings).filter { !$0.isEmpty }
        fuzzCheck(contentLengths.isEmpty, "accepted both Transfer-Encoding and Content-Length: \(context)")
        fuzzCheck(head.versionMinor == 1, "accepted Transfer-Encoding on HTTP/1.0: \(context)")
        fuzzCheck(codings == ["chunked"], "accepted Transfer-Encoding \(codings), not exactly chunked: \(context)")
        fuzzCheck(head.framing == .chunked, "Transfer-Encoding: chunked but framing \(head.framing): \(context)")
    } else if let first = contentLengths.first {
        // Repeats are compared as numbers, as the parser does ("012" and "12" are the same length).
        fuzzCheck(contentLengths.allSatisfy { Int($0) == Int(first) }, "accepted differing Content-Length values: \(context)")
        fuzzCheck(contentLengths.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } },
            "accepted a Content-Length that is not digits: \(context)")
        fuzzCheck(head.framing == .contentLength(Int(first) ?? -1), "Content-Length \(first) but framing \(head.framing): \(context)")
    } else {
        fuzzCheck(head.framing == BodyFraming.none, "no framing headers but framing \(head.framing): \(context)")
    }
    fuzzCheck(head.versionMinor == 1 ? hosts.count == 1 : hosts.count <= 1, "accepted \(hosts.count) Host headers: \(context)")
    let connection = listElements(head.headers.all(named: "connection"))
    let close = connection.contains("close")
    let keepAlive = head.versionMinor == 1 ? !close : connection.contains("keep-alive") && !close
    fuzzCheck(head.keepAlive == keepAlive, "keepAlive \(head.keepAlive), expected \(keepAlive): \(context)")
}

/// The elements of comma-separated header values, split and OWS-trimmed on bytes (as HTTP defines them, so a
/// combining mark after ',' cannot glue two elements into one Character) with ASCII letters lowercased.
func listElements(_ values: [String]) -> [String] {
    values.flatMap { value in
        Array(value.utf8).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { element in
            let isOWS = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
            let trimmed = element.drop(while: isOWS).reversed().drop(while: isOWS).reversed()
            return String(decoding: trimmed.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
    }
}
