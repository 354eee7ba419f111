/// One field an operation takes, with the rule that checks and normalises it.
public struct FieldSpec: Sendable, Equatable {
    public var name: String
    public var rule: FieldRule
    public var required: Bool
    /// One line for site developers (README, OpenAPI).
    public var summary: String

    public init(_ name: String, _ rule: FieldRule, required: Bool = false, summary: String = "") {
        self.name = name
        self.rule = rule
        self.required = required
        self.summary = summary
    }
}

/// Two fields that must be in order (start ≤ end); checked after both are normalised.
public struct OrderedFieldPair: Sendable, Equatable {
    public var start: String
    public var end: String

    public init(start: String, end: String) {
        self.start = start
        self.end = end
    }
}

/// One operation of the upstream API, as data: how sites may call it, how justgate forwards it,
/// and what its fields are. Every operation is handled by the same request driver, and what sets one
/// apart is here, traits included (`retrySafe`, `takesIdempotencyKey`): no code tests an operation's id.
public struct OperationSpec: Sendable, Equatable {
    /// Stable id used in config, logs, metrics and rate-limit keys ("subscribe.sms").
    public var id: String
    public var summary: String
    /// The method justgate forwards with (config may override it).
    public var method: String
    /// The path justgate forwards to; `{channel}` is replaced by the normalised path parameter.
    public var path: String
    /// Methods sites may use, including `method`.
    public var acceptedMethods: [String]
    /// Other path templates sites use (the reference's headings and examples disagree).
    public var aliasPaths: [String]
    /// The path parameter, if the path has one (`{channel}`).
    public var pathParameter: FieldSpec?
    /// Fields from the body (POST/PUT) or the query (GET), in canonical forwarding order.
    public var fields: [FieldSpec]
    public var ranges: [OrderedFieldPair]
    /// The operation only reads, so sending it twice is harmless: it may be retried after the request
    /// reached the upstream (a timeout, a lost connection, a 502/503/504). Others are retried only when the
    /// request provably never left (`RetryPolicy.mayRetry`).
    public var retrySafe: Bool
    /// The operation honours an `Idempotency-Key` header (`IdempotencyGate`), and its OpenAPI entry says so.
    public var takesIdempotencyKey: Bool
    /// Whether a site may have this call kept in the outbox and delivered later (`sites[].defer`), and whether
    /// a second delivery is harmless; set with `deferring(_:)`. Issue 25.
    public var deferral: DeferralTrait = .never

    public init(id: String, summary: String, method: String, path: String, acceptedMethods: [String] = [],
                aliasPaths: [String] = [], pathParameter: FieldSpec? = nil, fields: [FieldSpec], ranges: [OrderedFieldPair] = [],
                retrySafe: Bool = false, takesIdempotencyKey: Bool = false) {
        self.id = id
        self.summary = summary
        self.method = method
        self.path = path
        self.acceptedMethods = acceptedMethods.contains(method) ? acceptedMethods : [method] + acceptedMethods
        self.aliasPaths = aliasPaths
        self.pathParameter = pathParameter
        self.fields = fields
        self.ranges = ranges
        self.retrySafe = retrySafe
        self.takesIdempotencyKey = takesIdempotencyKey
    }

    /// Whether the operation forwards its fields in the query string rather than a form body.
    public var forwardsAsQuery: Bool { method == "GET" || method == "DELETE" || method == "HEAD" }

    /// Every field spec, path parameter first.
    public var allFields: [FieldSpec] { (pathParameter.map { [$0] } ?? []) + fields }

    /// The field spec named `name`, if the operation takes it.
    public func field(named name: String) -> FieldSpec? {
        allFields.first { $0.name == name }
    }
}
