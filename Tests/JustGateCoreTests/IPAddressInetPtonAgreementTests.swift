#if canImport(Glibc)
import Glibc
#endif
import JustGateHTTP
import Testing

/// justgate has one address parser (JustGateHTTP's `IPAddress`); the `ip` field rule used inet_pton before, and
/// promises the same addresses as the kernel and curl. This holds the parser to inet_pton's verdict on seeds
/// and on generated and mutated texts, so a change to the strict parser cannot quietly change the rule.
@Suite struct IPAddressInetPtonAgreementTests {
    static let seeds = [
        "1.2.3.4", "::ffff:1.2.3.4", "2001:db8::1", "::", "1::", "::1", "01.2.3.4", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:1.2.3.4", "::ffff:01.2.3.4", "255.255.255.255", "256.1.1.1", "1.2.3", "1:2:3:4:5:6:7::",
        "::1:2:3:4:5:6:7", "00000::1", "1.2.3.4.", "::1.2.3.4", "1::2::3", "fe80::1%eth0", ":1::", "1:::2",
        "abcd:ef01:2345:6789:abcd:ef01:2345:6789", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:1.2.3.4", "0.0.0.0",
    ]

    static func inetPtonAccepts(_ text: String) -> Bool {
        guard !text.utf8.contains(0) else { return false }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    @Test func acceptsExactlyWhatInetPtonAccepts() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABF:.:.:::0001%x ")
        var inputs = Self.seeds
        for _ in 0..<50_000 {
            let length = Int.random(in: 1...22, using: &generator)
            inputs.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "0" }))
            var text = Self.seeds.randomElement(using: &generator) ?? "::"
            let index = text.index(text.startIndex, offsetBy: Int.random(in: 0..<text.count, using: &generator))
            if Bool.random(using: &generator) {
                text.remove(at: index)
            } else {
                text.insert(alphabet.randomElement(using: &generator) ?? "0", at: index)
            }
            inputs.append(text)
        }
        let disagreements = inputs.filter { (IPAddress($0) != nil) != Self.inetPtonAccepts($0) }
        #expect(disagreements.isEmpty, "\(Array(Set(disagreements)).prefix(20))")
    }
}
