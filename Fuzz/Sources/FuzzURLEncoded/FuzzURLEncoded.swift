import FuzzSupport
import JustGateHTTP

/// Fuzzes `URLEncodedForm`.
///
/// Input: a form body or query string. Properties: the byte and String entry points agree; an accepted form
/// re-encodes to ASCII that decodes back to the same fields (`decode(encode(x)) == x`); and `encode` is
/// canonical, so encoding the decoded result again gives the same text. Paths decode without crashing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size).bytes
    let context = "\n input: \(escaped(input))"
    _ = URLEncodedForm.percentDecodePath(String(decoding: input, as: UTF8.self))

    let fromBytes = Result { () throws(FormDecodingError) in try URLEncodedForm.decode(input) }
    if let text = String(validating: input, as: UTF8.self) {
        let fromString = Result { () throws(FormDecodingError) in try URLEncodedForm.decode(text) }
        fuzzCheck(same(fromBytes, fromString), "byte and String decoding disagree\(context)")
    }
    guard case .success(let fields) = fromBytes else { return 0 }

    let encoded = URLEncodedForm.encode(fields)
    fuzzCheck(encoded.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "encode produced non-ASCII or space: \(escaped(encoded))\(context)")
    let decoded: [(name: String, value: String)]
    do {
        decoded = try URLEncodedForm.decode(encoded)
    } catch {
        fuzzFail("encode produced a form that does not decode: \(error)\n encoded: \(escaped(encoded))\(context)")
    }
    // Pairs with an empty name and value ("=") survive; only empty pairs between '&'s are dropped by design,
    // and encode never writes one, so the field lists must match exactly.
    fuzzCheck(identical(decoded, fields),
        "decode(encode(x)) != x: \(fields) -> \(escaped(encoded)) -> \(decoded)\(context)")
    fuzzCheck(identical(URLEncodedForm.encode(decoded), encoded), "encode is not canonical for \(escaped(encoded))\(context)")
    return 0
}

func same(
    _ a: Result<[(name: String, value: String)], FormDecodingError>,
    _ b: Result<[(name: String, value: String)], FormDecodingError>
) -> Bool {
    switch (a, b) {
    case (.success(let x), .success(let y)): identical(x, y)
    case (.failure(let x), .failure(let y)): x == y
    default: false
    }
}
