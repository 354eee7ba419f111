import FuzzSupport
import JustGateHTTP

/// Fuzzes `ChunkedBodyDecoder`, whose whole point is that input may be split anywhere.
///
/// Input: two bytes (big-endian) choosing a split point, then the chunked body (and whatever follows it). The body
/// is decoded three ways: in one call, in two calls split at the chosen point, and one byte per call. All three
/// must agree on the error, or on the decoded bytes, whether the message ended and how many bytes it used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let (selector, body) = FuzzInput(data, size).splitPrefix(2) else { return 0 }
    let split = selector % (body.count + 1)
    let whole = decode(body, cuts: [])
    let halves = decode(body, cuts: [split])
    let trickled = decode(body, cuts: Array(1..<max(body.count, 1)))
    let context = "\n input: \(escaped(body))"
    fuzzCheck(whole == halves, "whole \(whole) vs split at \(split) \(halves)\(context)")
    fuzzCheck(whole == trickled, "whole \(whole) vs byte-at-a-time \(trickled)\(context)")
    if case .decoded(let decoded, let consumed, let done) = whole {
        fuzzCheck(consumed <= body.count, "consumed \(consumed) of \(body.count) bytes\(context)")
        fuzzCheck(done || consumed == body.count, "stopped early at \(consumed) without finishing\(context)")
        fuzzCheck(decoded.count <= maxBodyBytes, "decoded \(decoded.count) bytes over the limit\(context)")
        fuzzCheck(decoded.count < consumed || consumed == 0, "decoded more bytes than it read\(context)")
    }
    return 0
}

let maxBodyBytes = 1024

enum Outcome: Equatable, CustomStringConvertible {
    case failed(status: Int, reason: String)
    case decoded(body: [UInt8], consumed: Int, done: Bool)

    var description: String {
        switch self {
        case .failed(let status, let reason): "failed(\(status): \(reason))"
        case .decoded(let body, let consumed, let done): "decoded(\(escaped(body)), consumed: \(consumed), done: \(done))"
        }
    }
}

/// Feeds `input` in pieces ending at each of `cuts` (ascending) and then the rest, as a connection would.
func decode(_ input: UnsafeRawBufferPointer, cuts: [Int]) -> Outcome {
    var decoder = ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes)
    var body: [UInt8] = []
    var start = 0
    do {
        for end in cuts + [input.count] where end >= start {
            let piece = UnsafeRawBufferPointer(rebasing: input[start..<end])
            let (consumed, done) = try decoder.decode(piece, into: &body)
            fuzzCheck(done == decoder.isDone, "decode returned done \(done) but isDone is \(decoder.isDone)")
            if done { return .decoded(body: body, consumed: start + consumed, done: true) }
            fuzzCheck(consumed == piece.count,
                "an unfinished decode consumed \(consumed) of a \(piece.count)-byte piece at \(start)\n input: \(escaped(input))")
            start = end
        }
        return .decoded(body: body, consumed: input.count, done: false)
    } catch {
        return .failed(status: error.status, reason: error.reason)
    }
}
