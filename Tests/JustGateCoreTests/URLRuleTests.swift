import Testing
@testable import JustGateCore

@Suite struct URLRuleTests {
    @Test(arguments: [
        ("https://everydayhoroscopes.devop/", "https://everydayhoroscopes.devop/"),
        ("HTTPS://Example.COM/Path?Q=A#Frag", "https://example.com/Path?Q=A#Frag"),
        (" http://example.com ", "http://example.com"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://[2001:DB8::1]:443/x", "http://[2001:db8::1]:443/x"),
        ("https://xn--e1afmkfd.xn--p1ai/страница", "https://xn--e1afmkfd.xn--p1ai/страница"),
        ("https://sub_domain.example.com?x=1", "https://sub_domain.example.com?x=1"),
        ("http://192.168.0.1/", "http://192.168.0.1/"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.url, raw) == expected)
    }

    @Test(arguments: [
        "ftp://example.com/", "javascript:alert(1)", "/relative/path", "example.com/page", "https:example.com",
        "https:///path", "https://", "https://exa mple.com/", "https://example.com/a b", "https://example.com/\u{0}",
        "https://user:pass@example.com/", "https://good.example@evil.example/", "https://пример.рф/",
        "https://example.com:99999/", "https://example.com:/", "https://example..com/", "http://[::1/",
        "http://[not-v6]/", "mailto:a@b.c",
    ])
    func rejects(raw: String) {
        #expect(problemCodes(.url, raw).contains(ProblemCode.invalidURL))
    }

    @Test func lengthLimit() {
        let base = "https://example.com/"
        let exact = base + String(repeating: "a", count: 2048 - base.count)
        #expect(accepted(.url, exact) == exact)
        #expect(problemCodes(.url, exact + "a") == [ProblemCode.tooLong])
    }
}
