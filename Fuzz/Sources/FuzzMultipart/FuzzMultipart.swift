import FuzzSupport
import JustGateHTTP

/// Fuzzes `MultipartFormData.decode`.
///
/// Input: a multipart body. When it starts with "--", the rest of its first line is the boundary (so the fuzzer
/// controls it, invalid ones included); otherwise the boundary is "b" and the input may carry a preamble. Small
/// limits make the 413 branches reachable. Every accepted body must re-encode (as curl would send the fields)
/// and decode back to the same fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let body = FuzzInput(data, size).bytes
    let boundary = boundary(of: body)
    let fields: [(name: String, value: String)]
    do {
        fields = try MultipartFormData.decode(body, boundary: boundary, limits: limits)
    } catch {
        fuzzCheck([400, 413, 422].contains(error.status), "unexpected status \(error.status): \(error.message)")
        return 0
    }
    let context = "\n boundary: \(escaped(boundary))\n input: \(escaped(body))"
    fuzzCheck(fields.count <= limits.maxParts, "\(fields.count) fields over the limit\(context)")
    for field in fields {
        fuzzCheck(!field.name.isEmpty, "a field with an empty name\(context)")
        fuzzCheck(field.value.utf8.count <= limits.maxPartBytes, "a field value over the part limit\(context)")
    }
    let encoded = encode(fields, boundary: boundary)
    let again: [(name: String, value: String)]
    do {
        again = try encoded.withUnsafeBytes { bytes throws(FormDecodingError) in
            try MultipartFormData.decode(bytes, boundary: boundary, limits: MultipartLimits(maxParts: 1000, maxPartBytes: 1 << 20))
        }
    } catch {
        fuzzFail("re-encoded fields do not decode: \(error)\n re-encoded: \(escaped(encoded))\(context)")
    }
    fuzzCheck(identical(again, fields),
        "round trip changed the fields: \(fields) -> \(again)\n re-encoded: \(escaped(encoded))\(context)")
    return 0
}

let limits = MultipartLimits(maxParts: 8, maxPartBytes: 512)

func boundary(of body: UnsafeRawBufferPointer) -> String {
    guard body.count >= 2, body[0] == UInt8(ascii: "-"), body[1] == UInt8(ascii: "-") else { return "b" }
    var end = 2
    while end < body.count, body[end] != 0x0D, body[end] != 0x0A { end += 1 }
    return String(decoding: UnsafeRawBufferPointer(rebasing: body[2..<end]), as: UTF8.self)
}

/// Writes fields the way curl does: CRLF lines, a quoted name with `"` and `\` escaped.
func encode(_ fields: [(name: String, value: String)], boundary: String) -> [UInt8] {
    var out: [UInt8] = []
    for field in fields {
        out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"".utf8)
        for byte in field.name.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out += Array("\"\r\n\r\n".utf8)
        out += Array(field.value.utf8)
        out += Array("\r\n".utf8)
    }
    out += Array("--\(boundary)--\r\n".utf8)
    return out
}
