/// The per-site settings and the injected clock that rules depend on.
///
/// Rules are pure functions of (raw value, options): the current time arrives here instead of being
/// read from the clock, so the same request always normalises the same way and tests need no sleeps.
public struct ValidationOptions: Sendable, Equatable {
    /// Whether the part before `@` is lowercased; some sites keep case-sensitive mailboxes.
    public var lowercaseEmailLocalPart: Bool
    /// The country calling code put in front of national numbers, e.g. `"7"`.
    public var phoneDefaultCountryCode: String?
    /// The national trunk prefix replaced by the country code, e.g. `"8"` in Russia.
    public var phoneTrunkPrefix: String?
    /// `phone.national_number_length`: numbers of exactly this many digits get the country code in front;
    /// nil uses the known length of the country code, if any (see `PhoneRule.knownNationalLengths`).
    public var phoneNationalNumberLength: Int?
    /// Whether addresses outside the public unicast space are refused.
    public var rejectNonPublicIP: Bool
    /// The lowercase genders a site accepts; `nil` accepts any short printable value.
    public var allowedGenders: [String]?
    /// The current time in Unix seconds, used to refuse birth dates in the future.
    public var now: Int64
    /// What happens to members of utm.update's `data` that the reference does not document; the
    /// validator sets it from `validation.unknown_fields`, so `data` follows the same policy as fields.
    public var unknownFields: UnknownFieldPolicy = .reject

    /// Creates options; everything but the clock has a permissive default.
    public init(
        now: Int64,
        lowercaseEmailLocalPart: Bool = true,
        phoneDefaultCountryCode: String? = nil,
        phoneTrunkPrefix: String? = nil,
        phoneNationalNumberLength: Int? = nil,
        rejectNonPublicIP: Bool = false,
        allowedGenders: [String]? = nil
    ) {
        self.now = now
        self.lowercaseEmailLocalPart = lowercaseEmailLocalPart
        self.phoneDefaultCountryCode = phoneDefaultCountryCode
        self.phoneTrunkPrefix = phoneTrunkPrefix
        self.phoneNationalNumberLength = phoneNationalNumberLength
        self.rejectNonPublicIP = rejectNonPublicIP
        self.allowedGenders = allowedGenders
    }
}
