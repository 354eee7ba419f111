/// The attribution fields a subscription carries, named exactly as the upstream's form fields and UTM JSON keys.
///
/// They travel together (subscribe sets them, the UTM update rewrites them, statistics group by `refid`),
/// so one keyed bag keeps every operation from spelling out six optionals.
enum MetricField: String, CaseIterable, Sendable {
    case regUrl
    case refid
    case refidm
    case utmSource
    case utmMedium
    case utmCampaign

    /// The fields the UTM-metric endpoint may rewrite; the registration URL is history, not a metric.
    static let updatableByUTM: [MetricField] = [.refid, .refidm, .utmSource, .utmMedium, .utmCampaign]
}

/// Identifies one subscription of a profile: a channel plus the normalised address on it.
struct SubscriptionKey: Hashable, Sendable {
    var channel: SandboxChannel
    /// Lowercased email or digits-only phone number.
    var address: String
}

/// One email or SMS subscription, remembered so segments, deactivation and statistics have something to read.
struct SandboxSubscription: Sendable, Equatable {
    /// Attribution values that were sent; absent fields are simply missing from the dictionary.
    var metrics: [MetricField: String]
    /// Unix seconds of the first subscribe call; re-subscribing keeps it so statistics count registrations once.
    var createdAt: Int64
    /// `false` after an unsubscribe call; a later subscribe call reactivates it.
    var active: Bool

    /// The statistics grouping key; subscriptions without a refid are grouped under the empty string.
    var refidForStatistics: String { metrics[.refid] ?? "" }
}

/// A user profile inside one project (one X-AUTH-TOKEN), holding everything the other operations touch.
struct SandboxProfile: Sendable {
    var juid: String
    var ip: String?
    var name: String?
    var gender: String?
    var birthDate: Int64?
    var createdAt: Int64
    var subscriptions: [SubscriptionKey: SandboxSubscription] = [:]
    /// Segment ids earned from numeric action tags, kept as a set because segments are reported unique.
    var tagSegments: Set<Int> = []
    /// How many actions were accepted; kept so the state shows actions arrived even when tags were not numeric.
    var actionCount = 0

    /// Whether any subscription on `channel` is still active, which is what the fixed segments 35 and 36 mean.
    func hasActiveSubscription(on channel: SandboxChannel) -> Bool {
        subscriptions.contains { key, subscription in key.channel == channel && subscription.active }
    }
}

/// Per-profile bounds that keep a long demo or a fuzzing client from growing the sandbox without limit.
enum SandboxLimits {
    /// The longest text the emulated store accepts in one field, like a `VARCHAR(255)` column upstream.
    static let maxFieldLength = 255
    /// Subscriptions one profile may hold across all channels.
    static let maxSubscriptionsPerProfile = 64
    /// Distinct tag segments one profile may collect; further tags are accepted but not remembered.
    static let maxSegmentsPerProfile = 1024
}
