import FuzzSupport
import JustGateCore
import JustGateRedis

/// Fuzzes `QuotaReplyDecoder` and the GCRA behind it with whatever a hostile Redis could answer the limiter's
/// script: the input is one RESP reply (as `FuzzRESP` reads it), decoded for as many policies as it has items
/// after `now`, taken in turn from a fixed list that spans 1/s to 1/d and a degenerate policy.
///
/// Properties: nothing traps (a crash here was a crash of the gateway); a reply the decoder accepts has a
/// plausible `now` and stored instants within each policy's reach, and its verdict has a non-negative retry and
/// in-range remaining counts; and `decide`/`standing` answer every integer of the reply raw, undecoded, without
/// trapping, as they must even if the decoder let something through.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size).bytes
    guard case .success(let parsed?) = Result(catching: { () throws(RESPParser.ProtocolError) in try RESPParser().parse(input) })
    else { return 0 }
    let reply = parsed.value
    let context = "\n reply: \(reply)"
    var integers: [Int64] = []
    var keyCount = 1
    if case .array(let items?) = reply {
        keyCount = max(0, items.count - 1)
        for case .integer(let value) in items { integers.append(value) }
    }
    let checks = (0..<keyCount).map { index in
        let policy = compiled[index % compiled.count]
        return QuotaCheck(policy: policy, keyHash: policy.identity, value: nil)
    }
    let limits = checks.map(\.policy.limit)

    // Raw: every pair of the reply's integers, as (stored, now), straight into the arithmetic.
    for limit in limits.prefix(2) {
        for now in integers.prefix(8) {
            for stored in integers.prefix(8) {
                let decision = limit.decide(storedTAT: stored, now: now)
                fuzzCheck(decision.retryAfterMicros >= 0, "negative retry for stored \(stored) now \(now)\(context)")
                let standing = limit.standing(tat: decision.tat, now: now)
                fuzzCheck((0...limit.burst).contains(standing.remaining) && standing.nextQuotaMicros >= 0,
                          "standing \(standing) for stored \(stored) now \(now)\(context)")
            }
        }
    }

    guard case .success(let decoded) = QuotaReplyDecoder.decode(reply, limits: limits) else { return 0 }
    fuzzCheck(decoded.now > 0 && decoded.now < QuotaReplyDecoder.latestPlausibleNow, "accepted now \(decoded.now)\(context)")
    fuzzCheck(decoded.stored.count == limits.count, "\(decoded.stored.count) instants for \(limits.count) keys\(context)")
    for (stored, limit) in zip(decoded.stored, limits) {
        guard let stored else { continue }
        fuzzCheck(stored >= 0 && stored - decoded.now <= limit.tolerance + limit.interval + QuotaReplyDecoder.clockSlackMicros,
                  "accepted stored \(stored) at now \(decoded.now)\(context)")
    }
    let verdict = QuotaVerdict.evaluate(checks, storedTATs: { decoded.stored[$0] }, now: decoded.now, commit: { _, _ in })
    fuzzCheck(verdict.retryAfterMicros >= 0 && verdict.admitted == verdict.violated.isEmpty, "verdict \(verdict)\(context)")
    if let reported = verdict.reported {
        fuzzCheck(reported.standing.remaining >= 0 && reported.standing.nextQuotaMicros >= 0, "reported \(reported)\(context)")
    }
    return 0
}

/// Site-scoped policies (no field needed) from the tightest to the loosest rates the config accepts.
private let compiled = [
    RateLimitPolicy(name: "per-second", scope: .site, rate: RateLimitRate(count: 10, period: .second), burst: 2),
    RateLimitPolicy(name: "per-hour", scope: .site, rate: RateLimitRate(count: 3, period: .hour)),
    RateLimitPolicy(name: "per-day", scope: .site, rate: RateLimitRate(count: 1, period: .day), burst: 1000),
    RateLimitPolicy(name: "one", scope: .site, rate: RateLimitRate(count: 1, period: .second), burst: 1),
].map { CompiledPolicy($0, siteID: "fuzz") }
