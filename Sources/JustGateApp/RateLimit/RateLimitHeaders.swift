import JustGateCore
import JustGateHTTP

/// The rate-limit headers of a response: the tightest policy's standing on an admitted request,
/// and on a 429 every refusing policy and when to come back (`Retry-After`).
enum RateLimitHeaders {
    static func admitted(_ verdict: QuotaVerdict) -> [HTTPHeader] {
        guard let (policy, standing) = verdict.reported else { return [] }
        return [HTTPHeader(name: "RateLimit-Policy", value: policy.policyItem),
                HTTPHeader(name: "RateLimit", value: RateLimitFields.standingItem(name: policy.name, standing: standing))]
    }

    static func refused(_ verdict: QuotaVerdict) -> [HTTPHeader] {
        var headers = [HTTPHeader(name: "Retry-After", value: String(verdict.retryAfterMicros.wholeSecondsRoundedUp))]
        headers.append(HTTPHeader(name: "RateLimit-Policy", value: verdict.violated.map(\.policyItem).joined(separator: ", ")))
        if let (policy, standing) = verdict.reported {
            headers.append(HTTPHeader(name: "RateLimit", value: RateLimitFields.standingItem(name: policy.name, standing: standing)))
        }
        return headers
    }
}
