import JustGateCore
import JustGateHTTP

/// Everything the pipeline consults, compiled once from a loaded config and immutable after:
/// a reload builds a new context and swaps it in, so a request always sees one consistent config.
/// A class, so handing the current one to a request is one reference, not a copy of every field.
public final class GatewayContext: Sendable {
    public let catalogue: Catalogue
    public let router: OperationRouter
    public let sites: [SiteContext]
    public let keys: SiteKeyTable
    /// Base URL without trailing slash, e.g. "https://api.justservices.cc".
    public let upstreamBaseURL: String
    public let unknownFields: UnknownFieldPolicy
    public let multipartLimits: MultipartLimits
    /// What of a request the audit log may keep.
    public let auditAllowlist: AuditAllowlist

    public init(config: GatewayConfig, sites resolved: [ResolvedSite], upstreamBaseURL: String) {
        let overrides = config.operations.mapValues { (method: $0.method, path: $0.path) }
        catalogue = Catalogue().overriding(overrides)
        router = OperationRouter(catalogue: catalogue)
        sites = resolved.map(SiteContext.init)
        keys = SiteKeyTable(hashes: resolved.map(\.config.keySHA256))
        var base = upstreamBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.upstreamBaseURL = base
        unknownFields = config.validation.unknownFields
        auditAllowlist = AuditAllowlist(catalogue: catalogue)
        multipartLimits = MultipartLimits(maxParts: config.server.maxMultipartParts,
                                          maxPartBytes: config.server.maxMultipartPartBytes)
    }
}

/// A site as the pipeline needs it: its id, its upstream token and its validation preferences.
public struct SiteContext: Sendable {
    public var id: String
    public var upstreamToken: Secret
    public var config: SiteConfig

    init(_ resolved: ResolvedSite) {
        id = resolved.config.id
        upstreamToken = resolved.upstreamToken
        config = resolved.config
    }

    /// Validation options for a request arriving at `now` (Unix seconds).
    func validationOptions(now: Int64) -> ValidationOptions {
        ValidationOptions(
            now: now,
            lowercaseEmailLocalPart: config.lowercaseEmailLocalPart,
            phoneDefaultCountryCode: config.phoneDefaultCountryCode,
            phoneTrunkPrefix: config.phoneTrunkPrefix,
            rejectNonPublicIP: config.rejectNonPublicIP,
            allowedGenders: config.allowedGenders)
    }
}
