import JustGateCore
import JustGateReactor

/// The limit stage's backend on one event loop: the shared memory limiter, or this loop's Redis
/// connection with the configured fallback while Redis is failing.
///
/// The memory limiter answers at once; Redis answers later, on this loop, through `PendingQuota`,
/// the way upstream calls do: nothing here ever blocks the loop.
final class QuotaGate {
    /// What the limiter decided for one request.
    enum Decision {
        case decided(QuotaVerdict)
        /// Redis failed and `on_backend_error: deny`: answer 503.
        case unavailable
    }

    /// A decision now, or one on its way (Redis): two types, so a waiting phase is handed a decision only.
    enum Answer {
        case now(Decision)
        case pending(PendingQuota)
    }

    private let memory: MemoryQuotaStore
    private let redis: (any SharedQuotaStore)?
    private let onBackendError: RateLimitBackendErrorPolicy
    private let loop: EventLoop?
    private var sweepTimer: Int?
    private var nextSweepStripe: Int

    init(memory: MemoryQuotaStore, redis: (any SharedQuotaStore)?, onBackendError: RateLimitBackendErrorPolicy,
         loop: EventLoop?) {
        self.memory = memory
        self.redis = redis
        self.onBackendError = onBackendError
        self.loop = loop
        nextSweepStripe = (loop?.index ?? 0) * 7
        scheduleSweep()
    }

    deinit {
        if let sweepTimer { loop?.cancelTimer(sweepTimer) }
    }

    func admit(_ checks: [QuotaCheck]) -> Answer {
        guard !checks.isEmpty else { return .now(.decided(.unlimited)) }
        guard let redis else { return .now(.decided(memory.admit(checks, now: MonotonicInstant.now().microseconds))) }
        guard redis.isUsable else { return .now(fallback(checks)) }
        let pending = PendingQuota()
        redis.admit(checks) { [weak self] verdict in
            guard let self else { return }
            if let verdict {
                pending.deliver(.decided(verdict))
            } else {
                pending.deliver(self.fallback(checks))
            }
        }
        if let answer = pending.answer { return .now(answer) }
        return .pending(pending)
    }

    private func fallback(_ checks: [QuotaCheck]) -> Decision {
        switch onBackendError {
        case .local: .decided(memory.admit(checks, now: MonotonicInstant.now().microseconds))
        case .allow: .decided(.unlimited)
        case .deny: .unavailable
        }
    }

    /// Idle keys go once their instant has passed: one stripe a second per loop.
    private func scheduleSweep() {
        guard let loop else { return }
        sweepTimer = loop.scheduleTimer(afterMs: 1000) { [weak self] in
            guard let self else { return }
            self.memory.sweep(stripe: self.nextSweepStripe, now: MonotonicInstant.now().microseconds)
            self.nextSweepStripe &+= 1
            self.scheduleSweep()
        }
    }

}

/// A limiter shared between gateways (Redis), answering later on the loop that asked.
protocol SharedQuotaStore: AnyObject {
    /// Whether a call now would be answered (connected); otherwise the fallback applies at once.
    var isUsable: Bool { get }
    /// Decides `checks`; `completion` runs on the loop with the verdict, or nil when the store failed.
    func admit(_ checks: [QuotaCheck], completion: @escaping (QuotaVerdict?) -> Void)
}

/// A limiter answer still on its way from Redis. The limit phase sets `resume`; an answer that
/// arrives first (a failure reported synchronously) is kept until then.
final class PendingQuota {
    fileprivate(set) var answer: QuotaGate.Decision?
    var resume: ((QuotaGate.Decision) -> Void)? {
        didSet {
            if let answer, let resume {
                self.resume = nil
                resume(answer)
            }
        }
    }

    fileprivate func deliver(_ answer: QuotaGate.Decision) {
        if let resume {
            self.resume = nil
            resume(answer)
        } else {
            self.answer = answer
        }
    }
}
