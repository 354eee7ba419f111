/// What a rate-limit policy counts by: the whole site, one operation of the site, or one end user
/// identified by a normalised request field.
public enum RateLimitScope: String, Sendable, CaseIterable {
    case site
    case operation
    case ip
    case number
    case email
    case juid

    /// The request field whose normalised value is the key, for the per-user scopes. Normalised,
    /// so `+7 912 345 67 89` and `79123456789` are one phone number and one key.
    public var fieldName: String? {
        switch self {
        case .site, .operation: nil
        case .ip: "ip"
        case .number: "number"
        case .email: "email"
        case .juid: "juid"
        }
    }

    /// "per phone number", for policies described in words.
    var phrase: String {
        switch self {
        case .site: "for the whole site"
        case .operation: "per operation"
        case .ip: "per IP address"
        case .number: "per phone number"
        case .email: "per e-mail address"
        case .juid: "per juid"
        }
    }
}
