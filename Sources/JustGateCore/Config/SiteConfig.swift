/// One website allowed to call the gateway, with the normalisation choices that differ between sites.
///
/// A site is identified by the SHA-256 of its key, never the key itself, so a leaked config file does not let
/// anyone impersonate a site. The upstream token is only a `SecretSource` here; `SecretResolver` reads it.
public struct SiteConfig: Sendable {
    /// Stable name used in logs, metrics and the audit trail (`[a-z0-9][a-z0-9._-]{0,63}`).
    public var id: String
    /// SHA-256 of the site key, 32 bytes, from `key_sha256` (the one-key form); `nil` when only `keys` is given.
    public var keySHA256: [UInt8]?
    /// The keys listed under `keys:`, each with an optional expiry: how a site rotates without a flag day.
    public var keys: [SiteKey]
    /// `keys: { vault: PATH }`: the keys (hashes and expiries) are read from this Vault secret instead, at
    /// start-up and every `refresh_s`, so onboarding a site or rotating its key is one write for every gateway.
    /// `keys` then holds the list last read (`SecretResolver`, `Reloading.replaceSecrets`).
    public var keysFromVault: VaultSecretReference?
    /// Where this site's upstream `X-AUTH-TOKEN` comes from.
    public var upstreamToken: SecretSource
    /// Country code prepended to national phone numbers (digits only, e.g. "7").
    public var phoneDefaultCountryCode: String?
    /// National trunk prefix replaced by the country code (digits only, e.g. "8").
    public var phoneTrunkPrefix: String?
    /// `phone.national_number_length`: a number of exactly this many digits is completed with the country
    /// code; nil uses the known length for the country code (10 for 7 and 1), if any.
    public var phoneNationalNumberLength: Int?
    /// Whether the local part of e-mail addresses is lowercased too (the domain always is).
    public var lowercaseEmailLocalPart: Bool
    /// `email.fold_for_limits`: whether e-mail rate-limit keys drop `+tag` and Gmail dots (see `EmailLimitKey`).
    public var foldEmailForLimits: Bool
    /// Whether private, loopback and other non-public IP addresses are rejected in `ip` fields.
    public var rejectNonPublicIP: Bool
    /// Accepted values of `gender` fields; `nil` leaves the catalogue's default rule in place.
    public var allowedGenders: [String]?
    /// Rate-limit policies of this site, in file order; a request must pass all that apply to it.
    public var limits: [RateLimitPolicy]
    /// `defer`: operations (ids, file order) whose calls may be kept in the outbox and delivered later; only
    /// operations whose catalogue trait allows it (`DeferralTrait.mayDefer`). Empty: the site defers nothing.
    public var deferredOperations: [String] = []

    /// Every key the site may present: `key_sha256` (no expiry) first, then `keys`, in file order.
    public var allKeys: [SiteKey] {
        (keySHA256.map { [SiteKey(sha256: $0)] } ?? []) + keys
    }

    /// Builds a site directly, for tests and for callers that do not start from YAML.
    public init(
        id: String,
        keySHA256: [UInt8]?,
        keys: [SiteKey] = [],
        keysFromVault: VaultSecretReference? = nil,
        upstreamToken: SecretSource,
        phoneDefaultCountryCode: String? = nil,
        phoneTrunkPrefix: String? = nil,
        phoneNationalNumberLength: Int? = nil,
        lowercaseEmailLocalPart: Bool = true,
        foldEmailForLimits: Bool = false,
        rejectNonPublicIP: Bool = false,
        allowedGenders: [String]? = nil,
        limits: [RateLimitPolicy] = []
    ) {
        self.id = id
        self.keySHA256 = keySHA256
        self.keys = keys
        self.keysFromVault = keysFromVault
        self.upstreamToken = upstreamToken
        self.phoneDefaultCountryCode = phoneDefaultCountryCode
        self.phoneTrunkPrefix = phoneTrunkPrefix
        self.phoneNationalNumberLength = phoneNationalNumberLength
        self.lowercaseEmailLocalPart = lowercaseEmailLocalPart
        self.foldEmailForLimits = foldEmailForLimits
        self.rejectNonPublicIP = rejectNonPublicIP
        self.allowedGenders = allowedGenders
        self.limits = limits
    }
}

/// Changes to how one catalogue operation is sent upstream, for when the API moves before the catalogue does.
public struct OperationOverride: Sendable, Equatable {
    /// HTTP method to use upstream (`GET`, `POST`, `PUT`, `PATCH` or `DELETE`); `nil` keeps the catalogue's.
    public var method: String?
    /// Upstream path (starting with `/`); `nil` keeps the catalogue's.
    public var path: String?
    /// The operation's deadline upstream in milliseconds; `nil` keeps `upstream.timeout_ms`.
    public var timeoutMs: Int?

    /// Builds an override; every part is optional.
    public init(method: String? = nil, path: String? = nil, timeoutMs: Int? = nil) {
        self.method = method
        self.path = path
        self.timeoutMs = timeoutMs
    }
}
