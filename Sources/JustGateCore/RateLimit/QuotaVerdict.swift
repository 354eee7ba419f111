/// What the limiter says about one request, with what the client is told about it.
public struct QuotaVerdict: Sendable {
    public var admitted: Bool
    /// The policies that refused the request (empty when admitted).
    public var violated: [CompiledPolicy]
    /// For a refusal: when the request would pass every policy.
    public var retryAfterMicros: Int64
    /// The policy reported in `RateLimit`: the tightest that applied (fewest requests left), or
    /// the refusing policy that frees up last.
    public var reported: (policy: CompiledPolicy, standing: GCRAStanding)?

    public static let unlimited = QuotaVerdict(admitted: true, violated: [], retryAfterMicros: 0, reported: nil)

    /// All or nothing over a request's checks, given each key's stored instant at `now`: admitted
    /// only if every policy admits, and then `commit` receives the instants to store. A refused
    /// request consumes nothing from any policy. Memory and Redis both end here, so both explain a
    /// decision the same way.
    public static func evaluate(_ checks: [QuotaCheck], storedTATs: (Int) -> Int64?, now: Int64,
                         commit: (Int, Int64) -> Void) -> QuotaVerdict {
        var admittedAll = true
        for index in checks.indices {
            let decision = checks[index].policy.limit.decide(storedTAT: storedTATs(index), now: now)
            if !decision.admitted { admittedAll = false; break }
        }
        if admittedAll {
            var tightest: (policy: CompiledPolicy, standing: GCRAStanding)?
            for index in checks.indices {
                let limit = checks[index].policy.limit
                let decision = limit.decide(storedTAT: storedTATs(index), now: now)
                commit(index, decision.tat)
                let standing = limit.standing(tat: decision.tat, now: now)
                if tightest.map({ standing.remaining < $0.standing.remaining }) ?? true {
                    tightest = (checks[index].policy, standing)
                }
            }
            return QuotaVerdict(admitted: true, violated: [], retryAfterMicros: 0, reported: tightest)
        }
        var violated: [CompiledPolicy] = []
        var retryAfter: Int64 = 0
        var reported: (policy: CompiledPolicy, standing: GCRAStanding)?
        for index in checks.indices {
            let limit = checks[index].policy.limit
            let decision = limit.decide(storedTAT: storedTATs(index), now: now)
            guard !decision.admitted else { continue }
            violated.append(checks[index].policy)
            if decision.retryAfterMicros >= retryAfter {
                retryAfter = decision.retryAfterMicros
                reported = (checks[index].policy, limit.standing(tat: decision.tat, now: now))
            }
        }
        return QuotaVerdict(admitted: false, violated: violated, retryAfterMicros: retryAfter, reported: reported)
    }
}
