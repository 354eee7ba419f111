#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JustGateCore

// The worst inputs of every field rule, timed against the bound no request may exceed: one rule run on
// one value may hold an event loop for at most 5 ms (issue 21, item 9). Each value is about as large as
// a body may be (`server.max_body_bytes`, 1 MiB by default) and shaped to be hard for its rule: long
// runs, many separators, many escapes, deep nesting, combining marks. Each input runs `runs` times and
// its fastest run counts (the slower ones measure the machine's noise, not the rule); a rule's time is its
// slowest input. Prints one line per rule and FAIL for any over the bound; exits 1 if any is.
//
// Usage: WorstInputs [--bound-ms 5] [--runs 5]

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Double) -> Double {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Double(arguments[index + 1])
    else { return fallback }
    return value
}
let boundMs = option("--bound-ms", 5)
let runs = Int(option("--runs", 5))

/// About the largest field a body can carry: the default body limit less a field name and `=`.
let bodySize = 1_048_576 - 16

/// The size the inputs below are made to; each rule runs them at `bodySize` (refused before they are read)
/// and at its own `maxInputBytes` (the largest value the rule reads).
nonisolated(unsafe) var size = bodySize

func repeated(_ unit: String, prefix: String = "", suffix: String = "") -> String {
    let count = max(1, (size - prefix.utf8.count - suffix.utf8.count) / max(unit.utf8.count, 1))
    return prefix + String(repeating: unit, count: count) + suffix
}

func nowNanos() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

@_optimize(none)
func sink(_ value: some Any) {}

let options = ValidationOptions(now: 1_767_225_600, phoneDefaultCountryCode: "7", phoneTrunkPrefix: "8")

/// Inputs common to every rule: one long run, whitespace, control characters, combining marks.
func generic() -> [String] { [
    repeated("a"), repeated(" "), repeated("1"), repeated("\u{7}"), repeated("e\u{301}"), repeated("Я "),
    repeated(","), repeated("\\u0041"), repeated("%41"),
] }

func cases() -> [(String, FieldRule, [String])] { [
    ("email", .email, generic() + [repeated("a.", suffix: "@x.com"), repeated("b.", prefix: "a@"), repeated("@"),
                                repeated("a-", prefix: "a@", suffix: ".com"), repeated("xn--a.", prefix: "a@")]),
    ("phone", .phone, generic() + [repeated("1 "), repeated("(1)-"), repeated("+"), repeated("0", prefix: "00")]),
    ("ip", .ip, generic() + [repeated(":"), repeated("1:"), repeated("1."), repeated("f", prefix: "::ffff:"),
                          repeated("0", prefix: "1.1.1.")]),
    ("juid", .juid, generic() + [repeated("0-"), repeated("f")]),
    ("name", .name, generic() + [repeated("a \t"), repeated("\u{301}"), repeated("\u{1100}\u{1161}\u{11A8}"),
                              repeated("\u{0}")]),
    ("gender", .gender, generic() + [repeated("A")]),
    ("birthDate", .birthDate, generic() + [repeated("9"), repeated("0", prefix: "1990-01-"), repeated("-")]),
    ("unixTimestamp", .unixTimestamp, generic() + [repeated("9"), repeated("0", prefix: "-")]),
    ("dateTime", .dateTime, generic() + [repeated("9", prefix: "2020-08-11T20:38:49."), repeated("0", prefix: "2020-08-11 "),
                                      repeated("+", prefix: "2020-08-11T20:38:49")]),
    ("channel", .channel(["sms", "email", "push"]), generic() + [repeated("S")]),
    ("tags", .tags, generic() + [repeated("a,"), repeated(" , "), repeated("a,b,"), repeated("x", prefix: "a,")]),
    ("label", .label, generic()),
    ("article", .article, generic()),
    ("text", .text, generic()),
    ("url", .url, generic() + [repeated("a", prefix: "http://a/"), repeated("a.", prefix: "http://"),
                            repeated("%2", prefix: "https://a/"), repeated("@", prefix: "http://")]),
    ("utmData", .utmData, generic() + [repeated("[", prefix: "{\"a\":"), repeated("{\"a\":"), repeated("\\u0041", prefix: "{\"a\":\""),
                                    repeated("\"a\":1,", prefix: "{", suffix: "\"b\":1}"),
                                    repeated("1", prefix: "{\"a\":"), repeated(" ", prefix: "{", suffix: "}")]),
] }

func padded(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}

var failed = false
print("bound: \(boundMs) ms per field value (~\(bodySize / 1024) KiB, and each rule's own maxInputBytes), "
    + "fastest of \(runs) runs per input, slowest input per rule")
let atBodySize = cases()
for (ruleIndex, (name, rule, bodyInputs)) in atBodySize.enumerated() {
    size = rule.maxInputBytes
    let inputs = bodyInputs + cases()[ruleIndex].2
    var worstNanos: Int64 = 0
    var worstInput = 0
    for (index, input) in inputs.enumerated() {
        var best = Int64.max
        for _ in 0..<runs {
            let start = nowNanos()
            sink(rule.normalise(input, field: "f", options: options))
            best = min(best, nowNanos() - start)
        }
        if best > worstNanos { worstNanos = best; worstInput = index }
    }
    let ms = Double(worstNanos) / 1_000_000
    let verdict = ms <= boundMs ? "ok" : "FAIL"
    if ms > boundMs { failed = true }
    let shown = String(inputs[worstInput].unicodeScalars.prefix(24).map { $0.value < 0x20 ? "?" : Character($0) })
    let micros = worstNanos / 1000
    let time = "\(micros / 1000).\(String(repeating: "0", count: 3 - String(micros % 1000).count))\(micros % 1000)"
    let sizeShown = inputs[worstInput].utf8.count
    print("\(padded(verdict, 5)) \(padded(name, 14)) \(padded(time, 9)) ms  worst: \(sizeShown) bytes \"\(shown)…\"")
}
if failed {
    print("FAIL: a field rule held the loop longer than \(boundMs) ms on one value")
    exit(1)
}
print("ok: every field rule stays under \(boundMs) ms")
