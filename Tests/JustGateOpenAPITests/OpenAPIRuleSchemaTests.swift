import Foundation
import Testing
@testable import JustGateCore
@testable import JustGateOpenAPI

/// The published schemas against the rules they describe: for each value, whether the rule accepts it
/// and whether the schema (pattern and lengths) does. Rows where the two differ are the documented
/// limits of JSON Schema (calendar validity, ranges relative to now, digit counts after punctuation);
/// a change to either a rule or a schema that is not mirrored in this table fails here.
@Suite("OpenAPI rule schemas agree with the rules")
struct OpenAPIRuleSchemaTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var rule: FieldRule
        var value: String
        var ruleAccepts: Bool
        var schemaAccepts: Bool
        var testDescription: String { "\(rule.openAPIRuleName) \(value.debugDescription)" }
    }

    static func rows(_ rule: FieldRule, _ cases: [(String, Bool, Bool)]) -> [Row] {
        cases.map { Row(rule: rule, value: $0.0, ruleAccepts: $0.1, schemaAccepts: $0.2) }
    }

    static let table: [Row] =
        rows(.email, [
            ("name@example.com", true, true), ("Name.Surname+tag@Sub.Example.COM", true, true),
            ("a..b@example.com", true, true), ("a@xn--e1afmkfd.xn--p1ai", true, true),
            ("a@localhost", false, false), ("@example.com", false, false), ("a@-example.com", false, false),
            ("a@example-.com", false, false), ("a b@example.com", false, false), ("a@b@example.com", false, false),
            ("имя@example.com", false, false), ("a@пример.рф", false, false),
            (String(repeating: "a", count: 65) + "@example.com", false, false),
            ("a@" + String(repeating: "b", count: 64) + ".com", false, false),
            (String(repeating: "a", count: 64) + "@" + Array(repeating: String(repeating: "b", count: 63), count: 3).joined(separator: "."),
             false, false),
        ])
        + rows(.phone, [
            ("+7 912 345-67-89", true, true), ("8 (912) 345-67-89", true, true), ("(+7) 912.345.67.89", true, true),
            ("0079123456789", true, true), ("+7 912 abc", false, false), ("7+9123456789", false, false),
            ("++79123456789", false, false), ("1234567", false, true), ("0123456789", false, true),
        ])
        + rows(.juid, [
            ("de6f0132ea9e412599ae31262c45633b", true, true), ("DE6F0132-EA9E-4125-99AE-31262C45633B", true, true),
            ("  de6f0132ea9e412599ae31262c45633b ", true, true), ("de6f0132ea9e412599ae31262c45633", false, false),
            ("de6f0132-ea9e412599ae31262c45633b", false, false), (String(repeating: "g", count: 32), false, false),
            ("de6f013-2ea9e-4125-99ae-31262c45633b", false, false),
        ])
        + rows(.name, [("Анна Петрова", true, true), ("a", true, true), (String(repeating: "я", count: 101), false, false)])
        + rows(.gender, [("Female", true, true), ("a\u{1}b", false, false), (String(repeating: "x", count: 17), false, false)])
        + rows(.birthDate, [
            ("631152000", true, true), ("631152000000", true, true), ("1990-01-01", true, true), ("-2208988800", true, true),
            ("1990-02-30", false, true), ("1899-12-31", false, true), ("2100-01-01", false, true), ("12.5", false, false),
            ("1990/01/01", false, false),
        ])
        + rows(.unixTimestamp, [
            ("1642137171", true, true), ("1642137171000", true, true), ("-5", true, true), (" 1642137171 ", true, true),
            ("1.5", false, false), ("1642137171s", false, false),
        ])
        + rows(.dateTime, [
            ("2020-08-11 20:38:49", true, true), ("2020-08-11T20:38:49.123+03:00", true, true), ("2020-08-11", true, true),
            ("2020-08-11T20:38Z", true, true), ("2020-08-11 20:38:49+0300", true, true), ("2020-08-11t20:38:49,5z", true, true),
            ("2020-02-30 00:00:00", false, true), ("2020-08-11 25:00:00", false, true), ("11.08.2020", false, false),
            ("2020-08-11T20", false, false), ("2020-08-11Z", false, false), ("2020-08-11 20:38:49.", false, false),
        ])
        + rows(.tags, [
            ("1,2,3", true, true), (" a , , b ,", true, true), ("x_y-z", true, true), ("a b", false, false),
            (",,,", false, false), (String(repeating: "x", count: 65), false, false), ("тег", false, false),
            // The 255-character bound is on the tidied list, which JSON Schema cannot express; the schema bounds the
            // value as sent (1024).
            ((1...100).map(String.init).joined(separator: ","), false, true),
            (String(repeating: "1,", count: 512) + "1", false, false),
        ])
        + rows(.label, [("login", true, true), ("", false, false), ("a\nb", false, false), (String(repeating: "l", count: 65), false, false)])
        + rows(.article, [
            (String(repeating: "a", count: 255), true, true), ("", true, true), (String(repeating: "a", count: 256), false, false),
            ("a\u{2029}b", false, false),
        ])
        + rows(.text, [("ch-api_src", true, true), ("a\u{2028}b", false, false), ("a\u{85}b", false, false),
                       (String(repeating: "t", count: 256), false, false)])
        + rows(.url, [
            ("https://example.com/signup", true, true), ("HTTPS://Example.COM:8443/a?b#c", true, true),
            ("http://[2001:db8::1]:80/", true, true), ("https://example.com/path@x", true, true), ("http://a_b.example", true, true),
            ("ftp://example.com", false, false), ("/relative", false, false), ("https://user:pw@example.com", false, false),
            ("https://example.com/a b", false, false), ("https://exa mple.com", false, false), ("https://example.com:/", false, false),
            ("https://пример.рф", false, false), ("https://[::1", false, false), ("https://example..com", false, false),
            ("https://example.com:99999/", false, true), ("https://[1:2]/", false, true),
            ("https://example.com/" + String(repeating: "p", count: 2048), false, false),
        ])

    @Test("schema and rule agree, except where the table says JSON Schema cannot", arguments: table)
    func agreement(row: Row) throws {
        let accepted = (try? row.rule.normalise(row.value, field: "f", options: ValidationOptions(now: 1_767_225_600)).get()) != nil
        #expect(accepted == row.ruleAccepts, "the rule changed: update the table and, if needed, the schema")
        #expect(try schemaAccepts(row.rule.openAPISchema, row.value) == row.schemaAccepts,
                "the schema of \(row.rule.openAPIRuleName) disagrees with the table")
    }

    /// Applies `pattern`, `minLength` and `maxLength` to the trimmed value, as JSON Schema would
    /// (lengths in code points, which are Unicode scalars).
    private func schemaAccepts(_ schema: YAMLTree, _ value: String) throws -> Bool {
        let trimmed = String(UnicodeText.trimmed(value))
        let length = trimmed.unicodeScalars.count
        if case .integer(let minimum) = schema["minLength"], length < minimum { return false }
        if case .integer(let maximum) = schema["maxLength"], length > maximum { return false }
        guard case .string(let pattern) = schema["pattern"] else { return true }
        let regex = try NSRegularExpression(pattern: pattern)
        let range = NSRange(trimmed.startIndex..., in: trimmed)
        return regex.firstMatch(in: trimmed, range: range) != nil
    }

    @Test("every rule with a shared schema has a distinct component name and names its rule")
    func componentNames() {
        let names = OpenAPIOperations.sharedRules.compactMap(\.openAPIComponentName)
        #expect(names.count == OpenAPIOperations.sharedRules.count)
        #expect(Set(names).count == names.count)
        for rule in OpenAPIOperations.sharedRules {
            guard case .string(let name) = rule.openAPISchema["x-justgate-rule"] else {
                Issue.record("\(rule) has no x-justgate-rule")
                continue
            }
            #expect(name == rule.openAPIRuleName)
        }
    }

    @Test("limits in the schemas are the rules' own constants")
    func limits() {
        func integer(_ rule: FieldRule, _ key: String) -> Int? {
            guard case .integer(let value) = rule.openAPISchema[key] else { return nil }
            return value
        }
        #expect(integer(.email, "maxLength") == 254)
        #expect(integer(.name, "maxLength") == 100)
        #expect(integer(.gender, "maxLength") == 16)
        #expect(integer(.label, "minLength") == 1)
        #expect(integer(.label, "maxLength") == 64)
        #expect(integer(.article, "minLength") == nil)
        #expect(integer(.article, "maxLength") == 255)
        #expect(integer(.text, "maxLength") == 255)
        #expect(integer(.url, "maxLength") == 2048)
        #expect(integer(.juid, "minLength") == 32)
        #expect(integer(.juid, "maxLength") == 36)
        #expect(integer(.tags, "maxLength") == 1024)
    }
}
