import PropertyBased
import Testing
@testable import JustGateCore

/// For every rule: whatever it accepts, it accepts again after normalisation and leaves unchanged
/// (n(n(x)) == n(x)). Generators mix well-formed and damaged values so both outcomes occur, and each
/// check also asserts that a fair share of inputs was accepted, so the property cannot pass vacuously.
@Suite struct RuleIdempotenceTests {
    static func text(_ alphabet: String, _ length: ClosedRange<Int>) -> Generator<String, some SendableSequenceType> {
        Gen<Character?>.element(of: Array(alphabet)).map { $0 ?? " " }.string(of: length)
    }

    /// Checks the property for one input; returns whether the input was accepted.
    @discardableResult
    static func check(_ rule: FieldRule, _ raw: String, _ options: ValidationOptions = plainOptions) -> Bool {
        guard let once = accepted(rule, raw, options) else { return false }
        #expect(accepted(rule, once, options) == once, "\(rule) on \(raw.debugDescription) gave \(once.debugDescription)")
        return true
    }

    static func run(_ rule: FieldRule, _ input: Generator<String, some SendableSequenceType>, _ options: ValidationOptions = plainOptions,
                    minimumAccepted: Int = 10) async {
        var acceptedCount = 0
        await propertyCheck(count: 200, input: input) { raw in
            if check(rule, raw, options) { acceptedCount += 1 }
        }
        #expect(acceptedCount >= minimumAccepted, "only \(acceptedCount) of 200 inputs accepted by \(rule)")
    }

    @Test func email() async {
        await Self.run(.email, Self.text("abXY09.+-_", 1...8).map { " \($0)@Ex-\($0.count).CoM " })
        await Self.run(.email, Self.text("aZ9.@-+ !", 3...14), minimumAccepted: 0)
    }

    @Test func phone() async {
        let numbers = Self.text("0123456789 -()", 6...20)
        await Self.run(.phone, numbers.map { "+" + $0 })
        await Self.run(.phone, numbers.map { "8" + $0 }, russianSiteOptions)
        // International numbers whose country code starts with the trunk digit, or exactly as long as the
        // site's national numbers (10 digits here), are the documented exceptions (see
        // PhoneRuleTests.internationalNumberStartingWithTrunkDigitIsNotIdempotent and
        // PhoneNationalCompletionTests.anInternationalNumberOfNationalLengthIsNotIdempotent).
        await Self.run(.phone, Self.text("0123456789", 10...14).map { "00 7" + $0 }, russianSiteOptions)
        await Self.run(.phone, Self.text("0123456789+.a", 0...18), minimumAccepted: 0)
    }

    @Test func ip() async {
        let groups = Gen<Int?>.element(of: [0, 0, 0, 1, 0x20, 0xabcd, 0xFFFF]).map { $0 ?? 0 }.array(of: 8)
        await Self.run(.ip, groups.map { $0.map { String($0, radix: 16, uppercase: true) }.joined(separator: ":") })
        await Self.run(.ip, Gen.int(in: 0...255).array(of: 4).map { $0.map(String.init).joined(separator: ".") })
        await Self.run(.ip, Gen.int(in: 0...255).array(of: 4).map { "::FFFF:" + $0.map(String.init).joined(separator: ".") })
        await Self.run(.ip, Self.text("0123abcf:.", 2...16), minimumAccepted: 0)
    }

    @Test func juid() async {
        await Self.run(.juid, Self.text("0123456789abcdefABCDEF", 32...32))
        await Self.run(.juid, Self.text("0123456789abcdefABCDEF-", 30...37), minimumAccepted: 0)
    }

    @Test func name() async {
        await Self.run(.name, Self.text("АнаПетровZoë \t\u{00A0}\u{0306}\u{0301}и\u{0}\u{7F}\u{2028}'-", 0...30))
    }

    @Test func gender() async {
        await Self.run(.gender, Self.text("MaleFMÄЖİ \t", 0...20))
    }

    @Test func birthDate() async {
        let now = Int(testNow)
        await Self.run(.birthDate, Gen.int(in: -2_300_000_000...now + 1000).map(String.init))
        await Self.run(.birthDate, Gen.int(in: -2_300_000_000...now + 1000).map { String($0 * 1000 + 999) })
        await Self.run(.birthDate, zip(Gen.int(in: 1890...2030), Gen.int(in: 1...13), Gen.int(in: 1...31)).map { year, month, day in
            "\(year)-\(DateFormatting.padded(month, width: 2))-\(DateFormatting.padded(day, width: 2))"
        })
    }

    @Test func unixTimestamp() async {
        // Plausible times (seconds and milliseconds from 1970 to about 2100) must mostly be accepted;
        // the wide range mostly is not, so it only checks the property on what is.
        await Self.run(.unixTimestamp, Gen.int64(in: 0...4_000_000_000_000).map(String.init))
        await Self.run(.unixTimestamp, Gen.int64(in: -999_999_999_999_999...999_999_999_999_999).map(String.init), minimumAccepted: 0)
        await Self.run(.unixTimestamp, Self.text("0123456789-. ", 1...16), minimumAccepted: 0)
    }

    @Test func dateTime() async {
        let offsets = ["", "Z", "+03:00", "-0530", "+14:00", ".123Z", ".5-01:00"]
        await Self.run(.dateTime, zip(Gen.int(in: 0...9999), Gen.int(in: 1...12), Gen.int(in: 1...31), Gen.int(in: 0...23),
                                      Gen.int(in: 0...59), Gen<String?>.element(of: offsets).map { $0 ?? "" }).map { y, mo, d, h, mi, off in
            "\(DateFormatting.padded(y, width: 4))-\(DateFormatting.padded(mo, width: 2))-\(DateFormatting.padded(d, width: 2))T"
                + "\(DateFormatting.padded(h, width: 2)):\(DateFormatting.padded(mi, width: 2)):07\(off)"
        })
    }

    @Test func channel() async {
        await Self.run(.channel(["sms", "email", "push"]), Gen<String?>.element(of: ["SMS", " email", "Push ", "fax", ""]).map { $0 ?? "" },
                       minimumAccepted: 50)
    }

    @Test func tags() async {
        await Self.run(.tags, Self.text("ab1_-, ", 0...30))
    }

    @Test func labelArticleText() async {
        let printable = Self.text("ab Ж🎉é.-", 0...70)
        let hostile = Self.text("ab Ж🎉\t\u{2029}é.-", 0...70)
        for rule in [FieldRule.label, .article, .text] {
            await Self.run(rule, printable)
            await Self.run(rule, hostile, minimumAccepted: 0)
        }
    }

    @Test func url() async {
        let schemes = Gen<String?>.element(of: ["http://", "HTTPS://", "ftp://", "https:", ""]).map { $0 ?? "" }
        let hosts = Gen<String?>.element(of: ["Example.COM", "[2001:DB8::1]", "a.b", "x y", "", "h:8080", "h:99999"]).map { $0 ?? "" }
        await Self.run(.url, zip(schemes, hosts, Self.text("/aB?=#ж%", 0...12)).map { $0 + $1 + $2 })
    }

    @Test func utmData() async {
        let emails = Gen<String?>.element(of: [#""A@B.COM""#, #""x@y.z""#, "123", #""bad""#, "null"]).map { $0 ?? "" }
        let numbers = Gen<String?>.element(of: ["99988800066", #""+7 (912) 345-67-89""#, "1.5", #""8 912 345 67 89""#]).map { $0 ?? "" }
        let refids = Gen<String?>.element(of: ["2", #"" www ""#, #""""#, #""ch-api_src""#]).map { $0 ?? "" }
        let wrap = Gen<Bool>.bool
        await Self.run(.utmData, zip(emails, numbers, refids, wrap).map { email, number, refid, wrap in
            let object = #"{"email":\#(email),"refid":2,"number":\#(number),"refid":\#(refid)}"#
            return wrap ? "\"\(object)\"" : object
        })
    }
}
