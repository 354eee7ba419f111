import PropertyBased
import Testing
@testable import JustGateCore

@Suite struct JSONWriterTests {
    @Test(arguments: [
        (JSONValue.object([JSONMember(key: "b", value: .number("1")), JSONMember(key: "a", value: .array([.null, .bool(true)]))]),
         #"{"b":1,"a":[null,true]}"#),
        (.string("q\"b\\s/\n\t\r\u{8}\u{C}\u{1}\u{1F}\u{7F}é😀"), #""q\"b\\s/\n\t\r\b\f\u0001\u001f"# + "\u{7F}é😀\""),
        (.number("-1.5E+3"), "-1.5E+3"),
        (.array([]), "[]"),
        (.object([]), "{}"),
    ])
    func compact(value: JSONValue, expected: String) {
        #expect(JSONWriter.compact(value) == expected)
    }

    @Test func appendQuotedAppends() {
        var out = "x="
        JSONWriter.appendQuoted("a\"b", to: &out)
        #expect(out == #"x="a\"b""#)
    }

    /// A small deterministic generator of arbitrary JSON values from a seed (SplitMix64).
    struct ValueBuilder {
        var state: UInt64

        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }

        mutating func string() -> String {
            let pieces = ["a", "Ж", "😀", "\"", "\\", "\n", "\u{0}", "\u{1F}", " ", "é", "\u{2028}", "/"]
            return (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined()
        }

        mutating func value(depth: Int) -> JSONValue {
            switch next(depth > 3 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(next(2) == 0)
            case 2:
                let numbers = ["0", "-0", "1", "-12.5", "3e10", "1E-7", "99988800066", "123456789012345678901234567890"]
                return .number(numbers[next(numbers.count)])
            case 3: return .string(string())
            case 4: return .array((0..<next(4)).map { _ in value(depth: depth + 1) })
            default: return .object((0..<next(4)).map { _ in JSONMember(key: string(), value: value(depth: depth + 1)) })
            }
        }
    }

    @Test func parseWriteRoundTrip() async {
        await propertyCheck(count: 300, input: Gen<UInt64>.value(in: 0...UInt64.max)) { seed in
            var builder = ValueBuilder(state: seed)
            let value = builder.value(depth: 0)
            let text = JSONWriter.compact(value)
            #expect((try? parseText(text).get()) == value, "\(text)")
            #expect(text.unicodeScalars.allSatisfy { $0.value >= 0x20 }, "compact JSON has no raw control characters")
        }
    }
}
