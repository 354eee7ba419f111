import Foundation
import Testing

@testable import JustGateCore

/// Every road from a value to text must show `<redacted>`, never the secret.
@Suite struct SecretTests {
    static let value = "cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS"
    let secret = Secret(SecretTests.value)

    struct Holder: Encodable {
        var site = "horoscope-daily"
        var token = Secret(SecretTests.value)
    }

    enum Wrapped {
        case token(Secret)
    }

    private func dumped(_ value: some Any) -> String {
        var output = ""
        dump(value, to: &output)
        return output
    }

    @Test func revealIsTheOneWayOut() {
        #expect(secret.reveal() == Self.value)
    }

    @Test func interpolationAndDescriptionsAreRedacted() {
        #expect("\(secret)" == "<redacted>")
        #expect(String(describing: secret) == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(secret.description == "<redacted>")
        #expect(secret.debugDescription == "<redacted>")
    }

    @Test func mirrorHasNothingInside() {
        let mirror = Mirror(reflecting: secret)
        #expect(mirror.children.isEmpty)
        #expect(!dumped(secret).contains(Self.value))
        #expect(dumped(secret).contains("<redacted>"))
    }

    @Test func jsonEncodingIsRedacted() throws {
        let data = try JSONEncoder().encode(Holder())
        let json = try #require(String(data: data, encoding: .utf8))
        #expect(json.contains("\"token\":\"<redacted>\""))
        #expect(!json.contains(Self.value))
        let array = try #require(String(data: try JSONEncoder().encode([secret]), encoding: .utf8))
        #expect(array == "[\"<redacted>\"]")
    }

    @Test func containersAndStructsDoNotLeakIt() {
        let holder = Holder()
        let texts = [
            "\([secret])", String(reflecting: [secret]), "\(["k": secret])", String(describing: Optional(secret)),
            "\(holder)", String(reflecting: holder), dumped(holder), dumped([secret]),
            "\(Wrapped.token(secret))", dumped(Wrapped.token(secret)), "\((1, secret))",
            "\(SecretSource.value(secret))", String(reflecting: SecretSource.value(secret)),
            dumped(SecretSource.value(secret)),
        ]
        for text in texts {
            #expect(!text.contains(Self.value), "leaked in: \(text)")
        }
        #expect("\(holder)".contains("<redacted>"))
        #expect(dumped(holder).contains("<redacted>"))
    }

    @Test func secretSourceDescriptionsNameTheSourceOnly() {
        #expect(SecretSource.env("JUST_TOKEN").description == "environment variable JUST_TOKEN")
        #expect(SecretSource.file("/run/secrets/t").description == "file /run/secrets/t")
        #expect(SecretSource.value(secret).description == "inline value in the config")
    }

    @Test(arguments: [
        ("abc", "abc", true), ("abc", "abd", false), ("abc", "ab", false), ("", "", true), ("", "a", false),
    ])
    func equalityComparesTheWholeValue(left: String, right: String, equal: Bool) {
        #expect((Secret(left) == Secret(right)) == equal)
        #expect((Secret(right) == Secret(left)) == equal)
    }
}
