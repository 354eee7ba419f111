import FuzzSupport
import JustGateRedis

/// Fuzzes `RESPParser`, which reads whatever the Redis socket delivers, split wherever TCP splits it.
///
/// Properties: a reply is read only when it is whole (every shorter prefix of it answers "not yet", never another
/// value and never an error, since the bytes arrive in arbitrary pieces); what was read is 1 to all of the bytes;
/// and writing the value back out as RESP reads back as the same value, consuming exactly what was written.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size).bytes
    let context = "\n input: \(escaped(input))"
    let parser = RESPParser()
    let parsed = Result { () throws(RESPParser.ProtocolError) in try parser.parse(input) }
    guard case .success(let reply?) = parsed else { return 0 }
    fuzzCheck(reply.consumed >= 1 && reply.consumed <= input.count, "consumed \(reply.consumed) of \(input.count) bytes\(context)")

    // Every split point would be quadratic; the edges and up to 64 points in between find the same bugs.
    let step = max(1, reply.consumed / 64)
    for length in Set(Array(stride(from: 0, to: reply.consumed, by: step)) + [reply.consumed - 1]) {
        let early = Result { () throws(RESPParser.ProtocolError) in try parser.parse(input.head(length)) }
        switch early {
        case .success(nil): break
        case .success(let value?): fuzzFail("the first \(length) bytes read as a reply \(value) before the whole one\(context)")
        case .failure(let error): fuzzFail("the first \(length) bytes were refused (\(error)) though the whole reply reads\(context)")
        }
    }

    var written: [UInt8] = []
    write(reply.value, to: &written)
    let again = written.withUnsafeBytes { raw in Result { () throws(RESPParser.ProtocolError) in try parser.parse(raw) } }
    guard case .success(let reread?) = again else {
        fuzzFail("\(reply.value) written as \(escaped(written)) does not read back: \(again)\(context)")
    }
    fuzzCheck(reread.value == reply.value && reread.consumed == written.count,
              "\(reply.value) written as \(escaped(written)) reads back as \(reread)\(context)")
    return 0
}

/// RESP2 for a reply value, the inverse of the parser (the gateway only ever writes commands, so this lives here).
func write(_ value: RESPValue, to out: inout [UInt8]) {
    func line(_ type: UInt8, _ text: some Sequence<UInt8>) {
        out.append(type)
        out.append(contentsOf: text)
        out.append(contentsOf: [0x0D, 0x0A])
    }
    switch value {
    case .simple(let text): line(0x2B, text.utf8)
    case .error(let text): line(0x2D, text.utf8)
    case .integer(let number): line(0x3A, String(number).utf8)
    case .bulk(nil): line(0x24, "-1".utf8)
    case .bulk(let bytes?):
        line(0x24, String(bytes.count).utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: [0x0D, 0x0A])
    case .array(nil): line(0x2A, "-1".utf8)
    case .array(let items?):
        line(0x2A, String(items.count).utf8)
        for item in items { write(item, to: &out) }
    }
}
