import JustGateCore
import JustGateHTTP

/// Everything the request driver consults, compiled once from a loaded config and immutable after:
/// a reload builds a new context and swaps it in, so a request always sees one consistent config.
/// A class, so handing the current one to a request is one reference, not a copy of every field.
public final class GatewayContext: Sendable {
    public let catalogue: Catalogue
    public let router: OperationRouter
    public let sites: [SiteContext]
    public let keys: SiteKeyTable
    /// Each key's fingerprint and last use, by the index `keys.lookup` gives.
    let keyUsage: SiteKeyUsage
    /// Every site's keys and upstream token, by hash, for keeping credentials out of request ids.
    let credentials: CredentialTable
    /// Base URL without trailing slash, e.g. "https://api.justservices.cc".
    public let upstreamBaseURL: String
    public let unknownFields: UnknownFieldPolicy
    /// `validation.max_fields`: more fields than this in one request is a 413 before any rule runs.
    public let maxFields: Int
    public let multipartLimits: MultipartLimits
    /// Each catalogue operation's upstream deadline in milliseconds, by operation index:
    /// `operations.<id>.timeout_ms`, else `upstream.timeout_ms`.
    let upstreamTimeoutsMs: [Int]
    /// What of a request the audit log may keep; `nil` without an audit log, so no request pays for picking
    /// out values nothing will write.
    public let auditAllowlist: AuditAllowlist?

    /// - Parameter previous: the context this one replaces on a reload, whose keys' last-used times carry over.
    public init(config: GatewayConfig, sites resolved: [ResolvedSite], upstreamBaseURL: String,
                previous: GatewayContext? = nil) {
        let overrides = config.operations.mapValues { (method: $0.method, path: $0.path) }
        catalogue = Catalogue().overriding(overrides)
        router = OperationRouter(catalogue: catalogue)
        let operationIDs = catalogue.operations.map(\.id)
        sites = resolved.map {
            SiteContext($0, operationIDs: operationIDs, ipv6PrefixLength: config.rateLimit.ipv6PrefixLength)
        }
        keys = SiteKeyTable(sites: resolved.map(\.config))
        keyUsage = SiteKeyUsage(keys: keys, siteIDs: resolved.map(\.config.id), previous: previous?.keyUsage)
        credentials = CredentialTable(keyHashesBySite: resolved.map { $0.config.allKeys.map(\.sha256) },
                                      upstreamTokens: resolved.map { $0.upstreamToken.reveal() })
        var base = upstreamBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.upstreamBaseURL = base
        unknownFields = config.validation.unknownFields
        maxFields = config.validation.maxFields
        upstreamTimeoutsMs = catalogue.operations.map { config.operations[$0.id]?.timeoutMs ?? config.upstream.timeoutMs }
        auditAllowlist = config.audit.enabled ? AuditAllowlist(catalogue: catalogue) : nil
        multipartLimits = MultipartLimits(maxParts: config.server.maxMultipartParts,
                                          maxPartBytes: config.server.maxMultipartPartBytes)
    }
}

/// A site as the request driver needs it: its id, its upstream token and its validation preferences.
///
/// A class, not a struct: every phase reads one or two fields of `gateway.sites[i]`, and taking a struct of a dozen
/// references out of the array copied it (a retain and a release for each) several times per request.
public final class SiteContext: Sendable {
    public let id: String
    public let upstreamToken: Secret
    /// The token's bytes, made once, for finding it in upstream answers (see `SecretRedaction`).
    let upstreamTokenBytes: [UInt8]
    public let config: SiteConfig
    /// The site's rate-limit policies that count each catalogue operation, by operation index.
    let policiesByOperation: [[CompiledPolicy]]

    /// - Parameter ipv6PrefixLength: `rate_limit.ipv6_prefix_length`, global but compiled into each policy.
    init(_ resolved: ResolvedSite, operationIDs: [String], ipv6PrefixLength: Int) {
        id = resolved.config.id
        upstreamToken = resolved.upstreamToken
        upstreamTokenBytes = Array(resolved.upstreamToken.reveal().utf8)
        config = resolved.config
        let keyOptions = RateLimitKeyOptions(ipv6PrefixLength: ipv6PrefixLength,
                                             foldEmail: resolved.config.foldEmailForLimits)
        let compiled = resolved.config.limits.map {
            CompiledPolicy($0, siteID: resolved.config.id, keyOptions: keyOptions)
        }
        policiesByOperation = operationIDs.map { operationID in
            zip(resolved.config.limits, compiled).filter { $0.0.applies(to: operationID) }.map(\.1)
        }
    }

    /// Validation options for a request arriving at `now` (Unix seconds).
    func validationOptions(now: Int64) -> ValidationOptions {
        ValidationOptions(
            now: now,
            lowercaseEmailLocalPart: config.lowercaseEmailLocalPart,
            phoneDefaultCountryCode: config.phoneDefaultCountryCode,
            phoneTrunkPrefix: config.phoneTrunkPrefix,
            phoneNationalNumberLength: config.phoneNationalNumberLength,
            rejectNonPublicIP: config.rejectNonPublicIP,
            allowedGenders: config.allowedGenders)
    }
}
