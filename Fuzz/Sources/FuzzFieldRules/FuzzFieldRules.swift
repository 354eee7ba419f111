import FuzzSupport
import JustGateCore

/// Fuzzes every `FieldRule` with one target.
///
/// Input: a selector byte, then the raw value as UTF-8 (invalid bytes become U+FFFD, as they would after the
/// form decoders). The low four bits of the selector pick the rule from `rules`; bit 4 switches to strict site
/// options. Property: normalisation is idempotent, so a value justgate forwards is also accepted unchanged if it
/// comes back (if normalise(x) = y then normalise(y) = y, byte for byte), plus each rule's documented output shape.
///
/// The options have no phone trunk prefix: with one, `+86…` normalises to `86…`, which reads as national on a
/// site with trunk `8` — non-idempotent by design (see PhoneRule).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let (selector, rest) = FuzzInput(data, size).splitPrefix(1) else { return 0 }
    let (name, rule) = rules[selector & 0x0F]
    let options = selector & 0x10 == 0 ? permissive : strict
    let raw = String(decoding: rest, as: UTF8.self)
    let context = "rule \(name) (selector \(selector)), raw \(escaped(raw))"

    let first = rule.normalise(raw, field: name, options: options)
    guard case .success(let normalised) = first else { return 0 }
    let second = rule.normalise(normalised, field: name, options: options)
    switch second {
    case .success(let again):
        fuzzCheck(identical(again, normalised),
            "not idempotent: \(context) -> \(escaped(normalised)) -> \(escaped(again))")
    case .failure(let problems):
        fuzzFail("normalised value is refused: \(context) -> \(escaped(normalised)) -> \(problems)")
    }
    checkShape(name, normalised, options: options, context: context)
    return 0
}

/// Every rule, in selector order. fuzz.sh builds the seed corpus from Tests/Fuzz/corpus/rules/<name>.txt with
/// the same order; keep the two lists in step.
let rules: [(String, FieldRule)] = [
    ("email", .email), ("phone", .phone), ("ip", .ip), ("juid", .juid),
    ("name", .name), ("gender", .gender), ("birthDate", .birthDate), ("unixTimestamp", .unixTimestamp),
    ("dateTime", .dateTime), ("channel", .channel(["sms", "email", "push"])), ("tags", .tags), ("label", .label),
    ("article", .article), ("url", .url), ("text", .text), ("utmData", .utmData),
]

/// 2023-11-14T22:13:20Z, fixed so birth dates "in the future" are deterministic.
let now: Int64 = 1_700_000_000

let permissive = ValidationOptions(now: now, phoneDefaultCountryCode: "7")

let strict = ValidationOptions(
    now: now, lowercaseEmailLocalPart: false, phoneDefaultCountryCode: "7", rejectNonPublicIP: true,
    allowedGenders: ["female", "male", "не указан"])

/// What the rule documentation promises about accepted output.
func checkShape(_ name: String, _ value: String, options: ValidationOptions, context: String) {
    let bytes = Array(value.utf8)
    let scalars = value.unicodeScalars.count
    let message = "output \(escaped(value)) breaks the \(name) contract: \(context)"
    let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
    switch name {
    case "phone":
        fuzzCheck((8...15).contains(bytes.count) && bytes.allSatisfy(isDigit) && bytes.first != 0x30, message)
    case "juid":
        fuzzCheck(bytes.count == 32 && bytes.allSatisfy { isDigit($0) || (0x61...0x66).contains($0) }, message)
    case "name":
        fuzzCheck((1...100).contains(scalars) && value.first != " " && value.last != " ", message)
    case "gender":
        fuzzCheck((1...16).contains(scalars), message)
        if let allowed = options.allowedGenders { fuzzCheck(allowed.contains(value), message) }
    case "birthDate":
        fuzzCheck(Int64(value).map { $0 <= options.now } ?? false, message)
    case "unixTimestamp":
        fuzzCheck(Int64(value) != nil, message)
    case "dateTime":
        fuzzCheck(bytes.count == 19 && bytes[4] == 0x2D && bytes[10] == 0x20 && bytes[13] == 0x3A, message)
    case "channel":
        fuzzCheck(["sms", "email", "push"].contains(value), message)
    case "tags":
        let tags = value.split(separator: ",", omittingEmptySubsequences: false)
        fuzzCheck(!tags.isEmpty && Set(tags).count == tags.count && tags.allSatisfy { (1...64).contains($0.utf8.count) }, message)
    case "label":
        fuzzCheck((1...64).contains(scalars), message)
    case "article":
        fuzzCheck(scalars <= 255, message)
    case "text":
        fuzzCheck((1...255).contains(scalars), message)
    case "url":
        fuzzCheck(scalars <= 2048 && (value.hasPrefix("http://") || value.hasPrefix("https://")), message)
    case "email":
        fuzzCheck(bytes.contains(UInt8(ascii: "@")) && bytes.count <= 254 && bytes.allSatisfy { $0 < 0x80 }, message)
    case "utmData":
        fuzzCheck(value.first == "{" && value.last == "}", message)
    default:
        break
    }
}
