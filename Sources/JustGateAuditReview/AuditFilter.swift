import JustGateCore

/// The record filters of `justgate audit query|summary|report`. All given filters must match.
public struct AuditFilter: Sendable, Equatable {
    /// Inclusive lower bound on `time`, in the log's own text form (so comparing text compares times).
    public var since: String?
    /// Exclusive upper bound on `time`.
    public var until: String?
    public var site: String?
    public var operation: String?
    public var status: StatusMatch?
    public var outcome: String?
    public var juid: String?
    /// The request id a site was answered with (`X-Request-Id`): the way from a site's complaint to its record.
    public var requestID: String?
    /// Only records of this event: `request` unless a caller asks for another (`--event reload`) or for every
    /// line (`nil`, `--event all`).
    public var event: AuditRecord.Event? = .request

    public init() {}

    /// The filter with nothing given: every request record.
    public static let everyRequest = AuditFilter()

    /// Every `outcome` a request record can have, for `--outcome` and its help (the README lists the same):
    /// the words of `RequestOutcome`, the one list the gateway writes from.
    public static let outcomes = RequestOutcome.allCases.map(\.rawValue)

    /// A status or a class of them: `429`, or `4xx`.
    public enum StatusMatch: Sendable, Equatable {
        case exact(Int)
        case classOf(Int)

        /// Parses `429` or `4xx` (any case); `nil` for anything else.
        public init?(_ text: String) {
            let lower = text.lowercased()
            if lower.count == 3, lower.hasSuffix("xx"), let digit = Int(lower.prefix(1)), (1...5).contains(digit) {
                self = .classOf(digit)
            } else if let value = Int(lower), (100...599).contains(value) {
                self = .exact(value)
            } else {
                return nil
            }
        }

        func matches(_ status: Int?) -> Bool {
            guard let status else { return false }
            switch self {
            case .exact(let value): return status == value
            case .classOf(let digit): return status / 100 == digit
            }
        }
    }

    /// Whether `record` passes every filter given.
    public func matches(_ record: AuditRecord) -> Bool {
        if let event, record.event != event { return false }
        if let since, record.time < since { return false }
        if let until, record.time >= until { return false }
        if let site, record.site != site { return false }
        if let operation, record.operation != operation { return false }
        if let status, !status.matches(record.status) { return false }
        if let outcome, record.outcome != outcome { return false }
        if let juid, record.juid != juid { return false }
        if let requestID, record.requestID != requestID { return false }
        return true
    }
}
