import Testing
@testable import JustGateCore

@Suite struct IPAddressRuleTests {
    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7"),
        (" 8.8.8.8 ", "8.8.8.8"),
        ("::FFFF:10.0.0.1", "10.0.0.1"),  // v4-mapped folds to v4
        ("::ffff:a00:1", "10.0.0.1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // leftmost of two equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // longest run wins over an earlier shorter one
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group is never ::
        ("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // inet_pton accepts :: for one group; we don't write it
        ("0:0:0:0:0:0:0:0", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("fe80::1", "fe80::1"),
        ("::1.2.3.4", "::102:304"),  // deprecated v4-compatible: plain hex, not mixed notation
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.ip, raw) == expected)
    }

    @Test(arguments: [
        "fe80::1%eth0", "fe80::1%1", "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4.5", "1.2.3.4/24", "::ffff:1.2.3.256",
        "1:2:3:4:5:6:7:8:9", "1::2::3", "[::1]", "localhost", "1.2.3.4\u{0}", "1.2.3.4 5", "12345::",
        "0x7f.0.0.1", "১.২.৩.৪",
    ])
    func rejects(raw: String) {
        #expect(problemCodes(.ip, raw) == [ProblemCode.invalidIP])
    }

    @Test func zoneMessageNamesTheZone() {
        #expect(problems(.ip, "fe80::1%eth0").first?.message.contains("without a zone id") == true)
    }

    static let nonPublic = ValidationOptions(now: testNow, rejectNonPublicIP: true)

    @Test(arguments: [
        "0.0.0.0", "10.1.2.3", "100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.1.1", "172.16.0.1", "172.31.255.255",
        "192.0.2.1", "192.168.1.1", "198.51.100.9", "203.0.113.7", "224.0.0.1", "239.255.255.255", "255.255.255.255",
        "::", "::1", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "2001:db8::1", "ff02::1", "::ffff:192.168.0.1",
        "3fff::1",
    ])
    func rejectsNonPublicWhenSiteOptsIn(raw: String) {
        #expect(problemCodes(.ip, raw, Self.nonPublic) == [ProblemCode.nonPublicIP])
        #expect(accepted(.ip, raw) != nil)  // and accepts it by default
    }

    @Test(arguments: ["8.8.8.8", "100.128.0.1", "172.32.0.1", "11.0.0.1", "2a00:1450:4010::65", "2001:4860::8888", "::ffff:8.8.4.4"])
    func acceptsPublicWhenSiteOptsIn(raw: String) {
        #expect(problemCodes(.ip, raw, Self.nonPublic) == [])
    }

    @Test func nonPublicMessageNamesTheRange() {
        #expect(problems(.ip, "10.0.0.1", Self.nonPublic).first?.message
            == "expected a public address; 10.0.0.1 is in the private 10.0.0.0/8 range")
    }
}
