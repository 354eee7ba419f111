import Testing
import Yams
@testable import JustGateCore
@testable import JustGateOpenAPI

@Suite("YAML emitter")
struct OpenAPIYAMLEmitterTests {
    /// Strings that break naive YAML writers: numbers, booleans, indicators, comments, quotes, controls.
    static let awkwardStrings: [String] = [
        "", " ", "plain", "two words", "200", "3.1.0", "0.1.0", "1e3", "0x1F", "-1", "+1", ".5", "2020-08-11",
        "true", "False", "yes", "NO", "on", "Off", "y", "n", "null", "~", "Null",
        "key: value", "ends with colon:", "a #comment", "#start", "- dash", "? question", ": colon", "[x]", "{x}",
        "&anchor", "*alias", "!tag", "|pipe", ">fold", "%percent", "@at", "`tick", "'single'", "\"double\"",
        "it's", "say \"hi\"", "back\\slash", "tab\there", "line\nbreak", "trailing\n", "\nleading", "two\n\nparagraphs",
        " indented\nsecond", "bell\u{7}", "del\u{7F}", "c1\u{85}", "sep\u{2028}", "bom\u{FEFF}", "emoji 🎉", "Анна Петрова",
        "…", "urn:justgate:problem:bad-request", "http://127.0.0.1:8080", "/api/user/v1/{channel}", "$ref",
        "#/components/schemas/Problem", "^[a-z]+$", #"^[\s,]*\u0000$"#, "a, b", "(parenthesis)", "trailing space ",
        "ends with a dot.", "x-justgate-alias-of", "<<",
    ]

    @Test("a string written as a mapping value and as a key reads back unchanged", arguments: awkwardStrings)
    func roundTrip(text: String) throws {
        let pairs: [(String, YAMLTree?)] = [("value", .string(text)), (text, .string("key")), ("list", .strings([text]))]
        let yaml = YAMLEmitter.document(.map(pairs))
        let parsed = try Yams.load(yaml: yaml)
        let loaded = try #require(parsed as? [AnyHashable: Any], "not a mapping:\n\(yaml)")
        #expect(loaded["value"] as? String == text, "\(yaml)")
        #expect(loaded[AnyHashable(text)] as? String == "key", "\(yaml)")
        #expect((loaded["list"] as? [Any])?.first as? String == text, "\(yaml)")
    }

    @Test("spellings", arguments: [
        ("plain", "plain"),
        ("200", "'200'"),
        ("true", "'true'"),
        ("it's: here", "'it''s: here'"),
        ("tab\there", "\"tab\\there\""),
        ("bell\u{7}", "\"bell\\u0007\""),
        ("/api/{channel}", "/api/{channel}"),
        ("#/components/schemas/X", "'#/components/schemas/X'"),
    ])
    func spelling(text: String, expected: String) {
        #expect(YAMLEmitter.quoted(text) == expected)
    }

    @Test("nested mappings, sequences, empty collections and literal blocks have one fixed layout")
    func layout() {
        let tree = YAMLTree.map([
            ("a", 1),
            ("b", .map([("c", true), ("d", .sequence([]))])),
            ("e", .sequence([.map([("f", "g"), ("h", .strings(["i"]))]), "j", .sequence([1, 2])])),
            ("k", .mapping([])),
            ("l", "first\n\nthird"),
            ("m", nil),
        ])
        let expected = """
            a: 1
            b:
              c: true
              d: []
            e:
              - f: g
                h:
                  - i
              - j
              - - 1
                - 2
            k: {}
            l: |-
              first

              third

            """
        #expect(YAMLEmitter.document(tree) == expected)
    }
}
