import FuzzSupport
import JustGateCore

/// Fuzzes `JSONParser` and `JSONWriter` together, since justgate re-writes every JSON value it forwards.
///
/// Properties: an accepted document was valid UTF-8 (the parser promises to refuse anything else); the byte and
/// String entry points agree; and parse → compact → parse gives an equal value whose compact form is the same
/// bytes (the writer's output is a fixed point).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size).bytes
    let context = "\n input: \(escaped(input))"
    let parsed = Result { () throws(JSONParseError) in try JSONParser.parse(input) }
    if let text = String(validating: input, as: UTF8.self) {
        let fromString = Result { () throws(JSONParseError) in try JSONParser.parse(text) }
        fuzzCheck(parsed == fromString, "byte and String parsing disagree: \(parsed) vs \(fromString)\(context)")
    }
    guard case .success(let value) = parsed else {
        if case .failure(let error) = parsed {
            fuzzCheck(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) outside the input\(context)")
        }
        return 0
    }
    fuzzCheck(String(validating: input, as: UTF8.self) != nil, "accepted a document that is not valid UTF-8\(context)")

    let compact = JSONWriter.compact(value)
    let reparsed: JSONValue
    do {
        reparsed = try JSONParser.parse(compact)
    } catch {
        fuzzFail("the writer's output does not parse: \(error)\n compact: \(escaped(compact))\(context)")
    }
    fuzzCheck(reparsed == value, "parse(compact(v)) != v: \(value) vs \(reparsed)\n compact: \(escaped(compact))\(context)")
    let again = JSONWriter.compact(reparsed)
    fuzzCheck(identical(again, compact), "compact is not a fixed point: \(escaped(compact)) -> \(escaped(again))\(context)")
    fuzzCheck(compact.utf8.count <= input.count, "compact output is longer than the input\(context)")
    return 0
}
