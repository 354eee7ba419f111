import Testing
@testable import JustGateCore

/// A national number of exactly the country's national length gets the country code in front, so one phone
/// is forwarded, and counted by a per-number limit, one way (issue 21 item 7).
@Suite struct PhoneNationalCompletionTests {
    static let britishSiteOptions = ValidationOptions(now: testNow, phoneDefaultCountryCode: "44",
                                                      phoneNationalNumberLength: 10)

    @Test(arguments: [
        ("9123456789", "79123456789"),  // the national form without the trunk prefix
        ("912 345-67-89", "79123456789"),
        ("8123456789", "78123456789"),  // St Petersburg: national, though it starts with the trunk digit
        ("7012345678", "77012345678"),  // Kazakhstan shares +7
        ("89123456789", "79123456789"),  // trunk prefix and national number: the trunk rule, unchanged
        ("79123456789", "79123456789"),  // already international: untouched
        ("912345678", "912345678"),  // 9 digits: not a national number, left as it is
        ("91234567890", "91234567890"),  // 11 digits: taken as international, as before
        ("+9123456789", "9123456789"),  // an explicit + is international whatever its length
        ("00 9123456789", "9123456789"),
    ])
    func russianSiteCompletesTenDigitNumbers(raw: String, expected: String) {
        #expect(accepted(.phone, raw, russianSiteOptions) == expected)
    }

    @Test func theCountryCodeAloneIsEnoughForAKnownLength() {
        let options = ValidationOptions(now: testNow, phoneDefaultCountryCode: "7")
        #expect(accepted(.phone, "9123456789", options) == "79123456789")
    }

    @Test func aNationalNumberStartingWithZeroIsNotCompleted() {
        #expect(problemCodes(.phone, "0123456789", russianSiteOptions) == [ProblemCode.invalidPhone])
    }

    @Test func aConfiguredLengthCompletesOtherCountries() {
        #expect(accepted(.phone, "2079460958", Self.britishSiteOptions) == "442079460958")
        #expect(accepted(.phone, "207946095", Self.britishSiteOptions) == "207946095")  // 9 digits: untouched
        #expect(accepted(.phone, "442079460958", Self.britishSiteOptions) == "442079460958")
    }

    /// The trunk prefix is replaced in place by a country code of another length, both ways.
    @Test func trunkPrefixesAndCountryCodesOfOtherLengthsAreSwapped() {
        let british = ValidationOptions(now: testNow, phoneDefaultCountryCode: "44", phoneTrunkPrefix: "0")
        #expect(accepted(.phone, "020 7946 0958", british) == "442079460958")
        let longTrunk = ValidationOptions(now: testNow, phoneDefaultCountryCode: "7", phoneTrunkPrefix: "810")
        #expect(accepted(.phone, "810 912 345 67 89", longTrunk) == "79123456789")
    }

    @Test func aCountryCodeWithoutAKnownLengthCompletesNothing() {
        let options = ValidationOptions(now: testNow, phoneDefaultCountryCode: "44")
        #expect(accepted(.phone, "2079460958", options) == "2079460958")
    }

    @Test func noCountryCodeCompletesNothing() {
        #expect(accepted(.phone, "9123456789") == "9123456789")
        let lengthOnly = ValidationOptions(now: testNow, phoneNationalNumberLength: 10)
        #expect(accepted(.phone, "9123456789", lengthOnly) == "9123456789")
    }

    /// Known limitation, like the trunk digit's: the output has no `+`, so a 10-digit international number
    /// (`+46 8 123 456 7`, Stockholm) normalised on a Russian site reads as national the second time.
    @Test func anInternationalNumberOfNationalLengthIsNotIdempotent() {
        let once = accepted(.phone, "+46 8 123 456 7", russianSiteOptions)
        #expect(once == "4681234567")
        #expect(accepted(.phone, once ?? "", russianSiteOptions) == "74681234567")
    }

    // MARK: config

    @Test func theLengthIsLoadedPerSite() throws {
        let yaml = ConfigFixtures.minimal + "    phone: { default_country_code: \"44\", national_number_length: 10 }\n"
        let site = try #require(ConfigFixtures.config(yaml)).config.sites[0]
        #expect(site.phoneDefaultCountryCode == "44")
        #expect(site.phoneNationalNumberLength == 10)
        let plain = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config.sites[0]
        #expect(plain.phoneNationalNumberLength == nil)
    }

    @Test(arguments: [
        ("default_country_code: \"44\", national_number_length: 0", "must be 1 to 14"),
        ("default_country_code: \"44\", national_number_length: 15", "must be 1 to 14"),
        ("default_country_code: \"44\", national_number_length: ten", "expected a whole number"),
        ("national_number_length: 10", "national_number_length needs default_country_code"),
        ("default_country_code: \"375\", national_number_length: 13", "make 16 digits, but an international number has at most 15"),
    ])
    func badLengthsAreConfigErrors(line: String, message: String) throws {
        let problems = ConfigFixtures.problems(ConfigFixtures.minimal + "    phone: { \(line) }\n")
        let errors = problems.filter { !$0.isWarning }
        #expect(errors.count == 1, "\(problems)")
        let problem = try #require(errors.first)
        #expect(problem.path == "sites[0].phone.national_number_length")
        #expect(problem.line == 8)
        #expect(problem.message.contains(message), "\(problem.message)")
    }
}
