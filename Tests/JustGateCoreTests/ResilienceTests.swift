import Testing

@testable import JustGateCore

/// A seeded random source (SplitMix64), so backoff draws are the same on every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 300)

    /// The catalogue's traits, which replaced id tests in code: reads are retry-safe, `profile.create` alone
    /// takes an `Idempotency-Key`.
    @Test func readsAreTheRetrySafeOperations() {
        let retrySafe = Set(Catalogue.standardOperations.filter(\.retrySafe).map(\.id))
        #expect(retrySafe == ["segments.get", "stat.count_by_refid", "stat.by_refid"])
        let keyed = Catalogue.standardOperations.filter(\.takesIdempotencyKey).map(\.id)
        #expect(keyed == ["profile.create"])
    }

    @Test(arguments: [
        (AttemptOutcome.notSent, true, true),
        (.timedOut, true, false),
        (.failedAfterSending, true, false),
        (.answered(status: 502), true, false),
        (.answered(status: 503), true, false),
        (.answered(status: 504), true, false),
        (.answered(status: 500), false, false),
        (.answered(status: 200), false, false),
        (.answered(status: 429), false, false),
        (.unretryable, false, false),
    ])
    func onlyWhatIsSafeIsRetried(outcome: AttemptOutcome, forReads: Bool, forWrites: Bool) {
        #expect(policy.mayRetry(after: outcome, idempotent: true, attemptsMade: 1) == forReads)
        #expect(policy.mayRetry(after: outcome, idempotent: false, attemptsMade: 1) == forWrites)
    }

    @Test func maxAttemptsCountsTheFirst() {
        #expect(policy.mayRetry(after: .notSent, idempotent: true, attemptsMade: 2))
        #expect(!policy.mayRetry(after: .notSent, idempotent: true, attemptsMade: 3))
        #expect(!RetryPolicy(maxAttempts: 1).mayRetry(after: .notSent, idempotent: true, attemptsMade: 1))
    }

    @Test func ceilingDoublesUpToTheCap() {
        #expect((1...6).map { policy.backoffCeilingMs(afterAttempt: $0) } == [50, 100, 200, 300, 300, 300])
        #expect(policy.backoffCeilingMs(afterAttempt: 500) == 300)
        #expect(RetryPolicy(baseDelayMs: Int.max / 2, maxDelayMs: 1000).backoffCeilingMs(afterAttempt: 40) == 1000)
    }

    @Test func fullJitterDrawsFromZeroToTheCeiling() {
        // A seeded source: the same draws every run, spread over the whole range.
        var random = SeededRandom(seed: 42)
        for attempt in 1...5 {
            let ceiling = policy.backoffCeilingMs(afterAttempt: attempt)
            let draws = (0..<2000).map { _ in policy.backoffMs(afterAttempt: attempt, using: &random) }
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= ceiling })
            // Full jitter: waits near 0 and near the ceiling both occur (not "ceiling ± a little").
            #expect(draws.contains { $0 <= ceiling / 10 })
            #expect(draws.contains { $0 >= ceiling * 9 / 10 })
        }
        var again = SeededRandom(seed: 42)
        var first = SeededRandom(seed: 42)
        #expect(policy.backoffMs(afterAttempt: 3, using: &again) == policy.backoffMs(afterAttempt: 3, using: &first))
    }

    @Test func upstreamFailuresAreTransportErrorsAndGatewayStatuses() {
        #expect(AttemptOutcome.notSent.isUpstreamFailure)
        #expect(AttemptOutcome.timedOut.isUpstreamFailure)
        #expect(AttemptOutcome.failedAfterSending.isUpstreamFailure)
        #expect(AttemptOutcome.answered(status: 503).isUpstreamFailure)
        #expect(!AttemptOutcome.answered(status: 500).isUpstreamFailure)
        #expect(!AttemptOutcome.answered(status: 404).isUpstreamFailure)
        #expect(!AttemptOutcome.unretryable.isUpstreamFailure)
    }
}

@Suite struct RetryBudgetTests {
    @Test func retriesAreAShareOfCallsWithAFloor() {
        var budget = RetryBudget(percent: 20, minimumRetries: 2)
        for _ in 0..<50 { budget.recordCall(nowMs: 1000) }
        // 20 % of 50 = 10 retries, then none.
        let granted = (0..<15).filter { _ in budget.spendRetry(nowMs: 1500) }.count
        #expect(granted == 10)
    }

    @Test func aQuietGatewayStillGetsTheFloor() {
        var budget = RetryBudget(percent: 20, minimumRetries: 3)
        budget.recordCall(nowMs: 0)
        #expect((0..<5).map { _ in budget.spendRetry(nowMs: 0) } == [true, true, true, false, false])
        var none = RetryBudget(percent: 0, minimumRetries: 0)
        none.recordCall(nowMs: 0)
        let answer1 = none.spendRetry(nowMs: 0)
        #expect(!answer1)
    }

    @Test func theWindowSlidesOverTenSeconds() {
        var budget = RetryBudget(percent: 10, minimumRetries: 0)
        for _ in 0..<100 { budget.recordCall(nowMs: 0) }
        #expect((0..<10).allSatisfy { _ in budget.spendRetry(nowMs: 0) })
        let answer2 = budget.spendRetry(nowMs: 9_999)
        #expect(!answer2)
        // At 10 s the second-0 bucket (calls and retries) has left the window: nothing to spend.
        let answer3 = budget.spendRetry(nowMs: 10_000)
        #expect(!answer3)
        for _ in 0..<20 { budget.recordCall(nowMs: 10_500) }
        let answer4 = budget.spendRetry(nowMs: 10_600)
        #expect(answer4)
        let answer5 = budget.spendRetry(nowMs: 10_700)
        #expect(answer5)
        let answer6 = budget.spendRetry(nowMs: 10_800)
        #expect(!answer6)
        // Far in the future everything has expired.
        let answer7 = budget.spendRetry(nowMs: 1_000_000)
        #expect(!answer7)
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailuresAndFailsFast() {
        var breaker = CircuitBreaker(failureThreshold: 3, openMs: 1000)
        for now in [0, 1, 2] as [Int64] {
            let answer8 = breaker.admit(nowMs: now)
            #expect(answer8 == .allowed)
            breaker.record(failure: true, isProbe: false, nowMs: now)
        }
        #expect(breaker.state(nowMs: 2) == .open)
        let answer9 = breaker.admit(nowMs: 2)
        #expect(answer9 == .rejected(retryAfterMs: 1000))
        let answer10 = breaker.admit(nowMs: 502)
        #expect(answer10 == .rejected(retryAfterMs: 500))
    }

    @Test func aSuccessResetsTheCount() {
        var breaker = CircuitBreaker(failureThreshold: 3, openMs: 1000)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        breaker.record(failure: false, isProbe: false, nowMs: 0)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        #expect(breaker.state(nowMs: 0) == .closed)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        #expect(breaker.state(nowMs: 0) == .open)
    }

    @Test func halfOpenLetsOneProbeThroughAndItsSuccessCloses() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        #expect(breaker.state(nowMs: 1000) == .halfOpen)
        let answer11 = breaker.admit(nowMs: 1000)
        #expect(answer11 == .probe)
        let answer12 = breaker.admit(nowMs: 1001)
        #expect(answer12 == .rejected(retryAfterMs: 1000))
        breaker.record(failure: false, isProbe: true, nowMs: 1002)
        #expect(breaker.state(nowMs: 1002) == .closed)
        let answer13 = breaker.admit(nowMs: 1003)
        #expect(answer13 == .allowed)
    }

    @Test func aFailedProbeOpensAgainForAnotherPeriod() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        let answer14 = breaker.admit(nowMs: 1500)
        #expect(answer14 == .probe)
        breaker.record(failure: true, isProbe: true, nowMs: 1600)
        #expect(breaker.state(nowMs: 1600) == .open)
        let answer15 = breaker.admit(nowMs: 2599)
        #expect(answer15 == .rejected(retryAfterMs: 1))
        let answer16 = breaker.admit(nowMs: 2600)
        #expect(answer16 == .probe)
    }

    @Test func anAbandonedProbeLetsTheNextCallerProbe() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 10)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        let answer17 = breaker.admit(nowMs: 10)
        #expect(answer17 == .probe)
        breaker.abandonProbe()
        let answer18 = breaker.admit(nowMs: 11)
        #expect(answer18 == .probe)
    }

    @Test func lateResultsOfOlderAttemptsDoNotDecide() {
        var breaker = CircuitBreaker(failureThreshold: 1, openMs: 1000)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        breaker.record(failure: false, isProbe: false, nowMs: 1)  // admitted before it opened
        #expect(breaker.state(nowMs: 1) == .open)
    }
}

@Suite struct IdempotencyTableTests {
    let answer = IdempotentAnswer(status: 200, contentType: "application/json", body: Array("{\"juid\":\"x\"}".utf8))
    let bodyA = IdempotencyTable.fingerprint(method: "POST", url: "u", body: Array("a=1".utf8))
    let bodyB = IdempotencyTable.fingerprint(method: "POST", url: "u", body: Array("a=2".utf8))

    @Test func firstUseProceedsThenRepeatsReplayTheAnswer() {
        var table = IdempotencyTable(ttlMs: 1000, maxEntries: 10)
        let answer19 = table.claim(key: "k", fingerprint: bodyA, nowMs: 0)
        #expect(answer19 == .proceed)
        let answer20 = table.claim(key: "k", fingerprint: bodyA, nowMs: 1)
        #expect(answer20 == .inProgress)
        table.complete(key: "k", fingerprint: bodyA, answer: answer)
        let answer21 = table.claim(key: "k", fingerprint: bodyA, nowMs: 2)
        #expect(answer21 == .replay(answer))
        let answer22 = table.claim(key: "k", fingerprint: bodyB, nowMs: 3)
        #expect(answer22 == .mismatch)
    }

    @Test func aFailedFirstAttemptIsForgotten() {
        var table = IdempotencyTable(ttlMs: 1000, maxEntries: 10)
        let answer19 = table.claim(key: "k", fingerprint: bodyA, nowMs: 0)
        #expect(answer19 == .proceed)
        table.complete(key: "k", fingerprint: bodyA, answer: nil)
        #expect(table.count == 0)
        let answer23 = table.claim(key: "k", fingerprint: bodyB, nowMs: 1)
        #expect(answer23 == .proceed)
    }

    @Test func keysExpireAfterTheTTL() {
        var table = IdempotencyTable(ttlMs: 1000, maxEntries: 10)
        _ = table.claim(key: "k", fingerprint: bodyA, nowMs: 0)
        table.complete(key: "k", fingerprint: bodyA, answer: answer)
        let answer24 = table.claim(key: "k", fingerprint: bodyA, nowMs: 999)
        #expect(answer24 == .replay(answer))
        let answer25 = table.claim(key: "k", fingerprint: bodyB, nowMs: 1000)
        #expect(answer25 == .proceed)
    }

    @Test func memoryIsBoundedByMaxEntries() {
        var table = IdempotencyTable(ttlMs: 1_000_000, maxEntries: 100)
        for index in 0..<10_000 {
            _ = table.claim(key: "k\(index)", fingerprint: bodyA, nowMs: Int64(index))
            table.complete(key: "k\(index)", fingerprint: bodyA, answer: answer)
        }
        #expect(table.count == 100)
        // The newest are kept, the oldest forgotten.
        let answer26 = table.claim(key: "k9999", fingerprint: bodyA, nowMs: 10_000)
        #expect(answer26 == .replay(answer))
        let answer27 = table.claim(key: "k0", fingerprint: bodyB, nowMs: 10_000)
        #expect(answer27 == .proceed)
    }

    @Test func fingerprintCoversMethodURLAndBody() {
        #expect(bodyA != bodyB)
        #expect(IdempotencyTable.fingerprint(method: "PUT", url: "u", body: Array("a=1".utf8)) != bodyA)
        #expect(IdempotencyTable.fingerprint(method: "POST", url: "v", body: Array("a=1".utf8)) != bodyA)
        #expect(bodyA.count == 32)
    }
}

@Suite struct ResilienceConfigTests {
    @Test func defaultsMatchTheDocumentation() throws {
        let config = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config
        #expect(config.upstream.retries == RetryConfig())
        #expect(config.upstream.retries.maxAttempts == 3 && config.upstream.retries.budgetPercent == 20)
        #expect(config.upstream.circuit.failures == 5 && config.upstream.circuit.openMs == 10_000)
        #expect(config.upstream.maxInFlight == 1024)
        #expect(config.upstream.httpVersion == .standard)
        #expect(config.idempotency.ttlSeconds == 600)
    }

    @Test func everyKeyIsRead() throws {
        let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "  url: https://api.justservices.cc\n", with: """
              url: https://api.justservices.cc
              max_in_flight: 7
              retries: { max_attempts: 4, budget_percent: 50, budget_min_retries: 1, base_delay_ms: 5, max_delay_ms: 80, attempt_timeout_ms: 900 }
              circuit: { failures: 2, open_ms: 3000 }

            """) + """
            operations:
              profile.create: { timeout_ms: 4000 }
              unsubscribe.email: { method: POST }
            idempotency: { ttl_s: 60, max_keys: 5 }

            """
        let config = try #require(ConfigFixtures.config(yaml)).config
        let retries = config.upstream.retries
        #expect([retries.maxAttempts, retries.budgetPercent, retries.budgetMinRetries, retries.baseDelayMs, retries.maxDelayMs]
                == [4, 50, 1, 5, 80])
        #expect(retries.attemptTimeoutMs == 900)
        #expect(config.upstream.circuit == { var c = CircuitConfig(); c.failures = 2; c.openMs = 3000; return c }())
        #expect(config.upstream.maxInFlight == 7)
        #expect(config.operations["profile.create"]?.timeoutMs == 4000)
        #expect(config.operations["unsubscribe.email"]?.timeoutMs == nil)
        #expect(config.idempotency.ttlSeconds == 60 && config.idempotency.maxKeys == 5)
    }

    /// `upstream.http_version` reads bare numbers (YAML floats and ints) and quoted text alike.
    @Test(arguments: [
        ("auto", UpstreamHTTPVersion.auto), ("1.1", .http1_1), ("\"1.1\"", .http1_1), ("2", .http2), ("'2'", .http2),
    ])
    func httpVersionIsRead(text: String, expected: UpstreamHTTPVersion) throws {
        let yaml = ConfigFixtures.minimal.replacingOccurrences(
            of: "  url: https://api.justservices.cc\n", with: "  url: https://api.justservices.cc\n  http_version: \(text)\n")
        #expect(try #require(ConfigFixtures.config(yaml)).config.upstream.httpVersion == expected)
    }

    @Test(arguments: [
        ("  retries: { max_attempts: 0 }\n", "upstream.retries.max_attempts"),
        ("  retries: { budget_percent: 101 }\n", "upstream.retries.budget_percent"),
        ("  retries: { base_delay_ms: 100, max_delay_ms: 10 }\n", "upstream.retries.max_delay_ms"),
        ("  retries: { attempt_timeout_ms: 0 }\n", "upstream.retries.attempt_timeout_ms"),
        ("  retries: { max_attempt: 2 }\n", "upstream.retries"),
        ("  circuit: { failures: 0 }\n", "upstream.circuit.failures"),
        ("  max_in_flight: 0\n", "upstream.max_in_flight"),
        ("  http_version: 3\n", "upstream.http_version"),
        ("  http_version: h2\n", "upstream.http_version"),
        ("  http_version: yes\n", "upstream.http_version"),
    ])
    func wrongValuesAreNamed(line: String, path: String) {
        let yaml = ConfigFixtures.minimal.replacingOccurrences(
            of: "  url: https://api.justservices.cc\n", with: "  url: https://api.justservices.cc\n" + line)
        let problems = ConfigFixtures.problems(yaml)
        #expect(problems.contains { $0.path == path }, "\(problems)")
    }

    @Test func operationTimeoutMustBePositive() {
        let problems = ConfigFixtures.problems(ConfigFixtures.minimal + "operations:\n  profile.create: { timeout_ms: 0 }\n")
        #expect(problems.contains { $0.path == "operations[\"profile.create\"].timeout_ms" }, "\(problems)")
    }
}

@Suite struct ResilienceBatchingTests {
    @Test func callsHandedOverInBatchesCountInTheirOwnSecond() {
        var budget = RetryBudget(percent: 10, minimumRetries: 0)
        budget.recordCalls(50, nowMs: 3_000)
        budget.recordCalls(50, nowMs: 5_000)
        // A late batch for an earlier second still counts while that second is in the window...
        budget.recordCalls(100, nowMs: 4_000)
        var granted = 0
        for _ in 0..<30 where budget.spendRetry(nowMs: 5_500) { granted += 1 }
        #expect(granted == 20)
        // ...and a batch from a second that has left the window does not.
        var later = RetryBudget(percent: 10, minimumRetries: 0)
        later.recordCall(nowMs: 20_000)
        later.recordCalls(1000, nowMs: 5_000)
        let allowed = later.spendRetry(nowMs: 20_000)
        #expect(!allowed)
    }

    @Test func onlyAClosedCircuitWithoutFailuresIsClean() {
        var breaker = CircuitBreaker(failureThreshold: 2, openMs: 100)
        #expect(breaker.isClosedWithoutFailures)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        #expect(!breaker.isClosedWithoutFailures)
        breaker.record(failure: false, isProbe: false, nowMs: 0)
        #expect(breaker.isClosedWithoutFailures)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        breaker.record(failure: true, isProbe: false, nowMs: 0)
        #expect(!breaker.isClosedWithoutFailures)
    }
}
