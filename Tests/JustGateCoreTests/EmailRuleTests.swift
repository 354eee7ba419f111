import PropertyBased
import Testing
@testable import JustGateCore

@Suite struct EmailRuleTests {
    @Test(arguments: [
        ("email@email.com", "email@email.com"),
        ("  Email@Email.COM \n", "email@email.com"),
        ("john+tag@example.com", "john+tag@example.com"),
        ("a.b-c_d'e@sub.example.co.uk", "a.b-c_d'e@sub.example.co.uk"),
        ("123@123.com", "123@123.com"),
        ("user@xn--e1afmkfd.xn--p1ai", "user@xn--e1afmkfd.xn--p1ai"),
        ("x@a-b.c", "x@a-b.c"),
        (".dots..are.ok.@example.com", ".dots..are.ok.@example.com"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.email, raw) == expected)
    }

    @Test func keepsLocalPartCaseWhenSiteOptsOut() {
        let options = ValidationOptions(now: testNow, lowercaseEmailLocalPart: false)
        #expect(accepted(.email, "John.Smith@Example.COM", options) == "John.Smith@example.com")
    }

    @Test(arguments: [
        ("", ProblemCode.empty),
        ("   ", ProblemCode.empty),
        ("no-at-sign.example.com", ProblemCode.invalidEmail),
        ("a@b@example.com", ProblemCode.invalidEmail),
        ("john smith@example.com", ProblemCode.invalidEmail),
        ("@example.com", ProblemCode.invalidEmail),
        ("john@", ProblemCode.invalidEmail),
        ("john@localhost", ProblemCode.invalidEmail),
        ("john@-example.com", ProblemCode.invalidEmail),
        ("john@example-.com", ProblemCode.invalidEmail),
        ("john@example..com", ProblemCode.invalidEmail),
        ("john@example.com.", ProblemCode.invalidEmail),
        ("john@exa_mple.com", ProblemCode.invalidEmail),
        ("jo\"hn@example.com", ProblemCode.invalidEmail),
        ("почта@example.com", ProblemCode.invalidEmail),
        ("user@пример.рф", ProblemCode.invalidEmail),  // IDN must be punycode
        ("user@bücher.de", ProblemCode.invalidEmail),
        ("https://everydayhoroscopes.devop/", ProblemCode.invalidEmail),  // the reference's own bad sample
    ])
    func rejects(raw: String, code: String) {
        #expect(problemCodes(.email, raw) == [code])
    }

    @Test func lengthLimits() {
        let local64 = String(repeating: "a", count: 64)
        #expect(accepted(.email, "\(local64)@example.com") == "\(local64)@example.com")
        #expect(problemCodes(.email, "\(local64)a@example.com") == [ProblemCode.tooLong])
        let label63 = String(repeating: "b", count: 63)
        #expect(accepted(.email, "a@\(label63).com") != nil)
        #expect(problemCodes(.email, "a@\(label63)b.com") == [ProblemCode.tooLong])
        // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 characters exactly.
        let longest = "\(local64)@\(label63).\(label63).\(String(repeating: "c", count: 61))"
        #expect(longest.count == 254)
        #expect(accepted(.email, longest) == longest)
        #expect(problemCodes(.email, longest + "c") == [ProblemCode.tooLong])
    }

    @Test func messagesSayWhatWasExpectedAndEchoSafely() {
        let found = problems(.email, "no-at-sign\u{1B}[31m-and-a-very-long-tail-that-goes-on-and-on", field: "email")
        #expect(found.count == 1)
        #expect(found.first?.field == "email")
        let message = found.first?.message ?? ""
        #expect(message.hasPrefix("expected an e-mail address like name@example.com"))
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 })
        #expect(message.contains("\\u{1b}"))
        #expect(message.contains("…"))
    }

    @Test func reportsEveryProblem() {
        let codes = problemCodes(.email, String(repeating: "a", count: 300) + "@a")
        #expect(codes == [ProblemCode.invalidEmail, ProblemCode.tooLong, ProblemCode.tooLong])
    }

    // MARK: The scanner against the WHATWG regex

    /// The WHATWG regex, rebuilt per call because `Regex` is not `Sendable`.
    static func oracle(_ text: String) -> Bool {
        let whatwg =
            #/^[a-zA-Z0-9.!#$%&'*+\/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/#
        return (try? whatwg.wholeMatch(in: text)) != nil
    }

    static func scannerAccepts(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { EmailSyntax.scan($0).isWHATWGValid }
    }

    static let emailish: [Character] = Array("abcXYZ019.-_+@@@..--!#'~ é\"") + ["ж", "("]

    /// Mostly well-formed addresses with random damage, so both answers occur often.
    static let candidates = Gen<Character?>.element(of: emailish).map { $0 ?? "a" }.string(of: 0...12)
        .map { tail in "ab" + tail }

    static let shaped = Gen<Character?>.element(of: Array("abz09-")).map { $0 ?? "a" }.string(of: 0...70)
        .map { label in "x@" + label + ".com" }

    @Test func scannerAgreesWithRegexOnRandomStrings() async {
        await propertyCheck(count: 400, input: Self.candidates) { text in
            #expect(Self.scannerAccepts(text) == Self.oracle(text), "\(text)")
        }
    }

    @Test func scannerAgreesWithRegexOnLabelShapes() async {
        await propertyCheck(count: 300, input: Self.shaped) { text in
            #expect(Self.scannerAccepts(text) == Self.oracle(text), "\(text)")
        }
    }

    @Test(arguments: [
        "a@b", "a@b.c", "a@-b.c", "a@b-.c", "a@b..c", "a@.b", "a@b.", "@b.c", "a@", "a@@b.c",
        "a b@c.d", "a@b_c.d", "é@b.c", "a@é.c", ".@a", "a@a-", "a@0", "a@\(String(repeating: "x", count: 63))",
        "a@\(String(repeating: "x", count: 64))",
    ])
    func scannerAgreesWithRegexOnEdges(text: String) {
        #expect(Self.scannerAccepts(text) == Self.oracle(text))
    }

    @Test func ruleIsOracleWithDotAndLengths() async {
        await propertyCheck(count: 300, input: Self.candidates) { text in
            // The rule trims surrounding whitespace first ("ab@Y.X " is accepted), so the oracle
            // judges the trimmed value.
            let value = String(UnicodeText.trimmed(Substring(text)))
            let expected = Self.oracle(value) && value.split(separator: "@").last?.contains(".") == true
                && value.count <= 254 && (value.split(separator: "@").first?.count ?? 0) <= 64
            #expect((accepted(.email, text) != nil) == expected, "\(text)")
        }
    }
}
