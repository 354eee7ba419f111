import JustGateCore
import JustGateReactor
import Synchronization

/// The process-wide `IdempotencyTable`, shared by every loop: a site's retry may arrive on
/// another connection, so on another loop, than its first attempt.
public final class IdempotencyStore: Sendable {
    private let table: Mutex<IdempotencyTable>
    private let clock: @Sendable () -> Int64

    /// One store per process, made by `GatewayRuntime` and shared by every loop's `IdempotencyGate`.
    public init(_ config: IdempotencyConfig,
                clock: @escaping @Sendable () -> Int64 = { MonotonicInstant.now().milliseconds }) {
        table = Mutex(IdempotencyTable(ttlMs: Int64(config.ttlSeconds) * 1000, maxEntries: config.maxKeys))
        self.clock = clock
    }

    /// Keys remembered now.
    public var count: Int { table.withLock { $0.count } }

    func claim(key: String, fingerprint: [UInt8]) -> IdempotencyTable.Claim {
        let now = clock()
        return table.withLock { $0.claim(key: key, fingerprint: fingerprint, nowMs: now) }
    }

    func complete(key: String, fingerprint: [UInt8], answer: IdempotentAnswer?) {
        table.withLock { $0.complete(key: key, fingerprint: fingerprint, answer: answer) }
    }
}
