import JustGateCore

/// Everything the pipeline consults, compiled once from a loaded config and immutable after:
/// a reload builds a new context and swaps it in, so a request always sees one consistent config.
public struct GatewayContext: Sendable {
    public var catalogue: Catalogue
    public var router: OperationRouter
    public var sites: [SiteContext]
    public var keys: SiteKeyTable
    /// Base URL without trailing slash, e.g. "https://api.justservices.cc".
    public var upstreamBaseURL: String
    public var unknownFields: UnknownFieldPolicy
    public var multipartLimits: (maxParts: Int, maxPartBytes: Int)

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
        multipartLimits = (config.server.maxMultipartParts, config.server.maxMultipartPartBytes)
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
