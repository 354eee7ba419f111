import Dispatch
import Foundation
import JustGateCore
import Logging
import Synchronization

/// A secret that changed in Vault (an upstream token, or a site's key list): which secret, the new value, and
/// the value's fingerprints for the log and audit (a key list is described by its keys' fingerprints instead).
public struct VaultTokenChange: Sendable {
    public var reference: VaultSecretReference
    public var value: VaultSecretValue
    /// First 12 hex digits of the SHA-256 of the previous and the new value.
    public var oldFingerprint: String
    public var newFingerprint: String
}

/// Upstream tokens and site key lists kept in Vault (or OpenBao): read at start-up, again every `refresh_s` on
/// one background thread (which also wakes when the gateway's own Vault token is due for renewal), and at once
/// when asked (SIGHUP, `POST /reload`).
///
/// Why one thread with blocking libcurl calls: reads are rare (one round a minute by default), a blocking easy
/// call on a thread of its own is the simplest correct client, and it never takes an event loop's time. The loops
/// only read the current immutable `GatewayContext`; a changed token reaches them as a new context (`onChange`,
/// wired to `Reloading.replaceSecrets`), so a request costs what it cost with a token from a file.
///
/// The last good value of every secret stays in memory (never on disk) while Vault is unreachable or a secret
/// was deleted; the outage and the recovery are logged once each. No log line holds a token or an AppRole id.
public final class VaultSecretSource: Sendable {
    /// What the metrics and `justgate sites` show.
    public struct Status: Sendable {
        /// Whether the last round reached Vault and logged in.
        public var up: Bool
        /// Wall-clock Unix seconds of the last round that read every secret; nil before the first.
        public var lastSuccess: Int64?
    }

    private struct State {
        var references: [VaultSecretReference] = []
        var lastGood: [VaultSecretReference: VaultSecretValue] = [:]
        var lastErrors: [VaultSecretReference: VaultReadError] = [:]
        var up = true
        var lastSuccess: Int64?
        var waiters: [DispatchSemaphore] = []
        var stopped = false
        var started = false
    }

    public let config: VaultConfig
    private let session: Mutex<VaultSession>
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let logger: Logger
    private let onChange = Mutex<(@Sendable ([VaultTokenChange]) -> Void)?>(nil)

    /// - Throws: when the libcurl handle cannot be made (no I/O happens here).
    public init(config: VaultConfig, environment: any SecretEnvironment = ProcessSecretEnvironment(), logger: Logger)
        throws(VaultReadError)
    {
        self.config = config
        self.logger = logger
        session = Mutex(try VaultSession(config: config, environment: environment))
    }

    /// Reads every reference now, on the calling thread (start-up, `check-config`, `sites`): values and errors,
    /// without falling back to earlier values. Remembers the values as the last good ones.
    public func readNow(_ references: [VaultSecretReference]) -> VaultReads {
        state.withLock { $0.references = references }
        return round(references, notify: false)
    }

    /// What the last rounds left: the last good value of each reference, or its error when it never had one.
    public func current(_ references: [VaultSecretReference]) -> VaultReads {
        state.withLock { state in
            var reads: VaultReads = [:]
            for reference in references {
                if let value = state.lastGood[reference] {
                    reads[reference] = .success(value)
                } else {
                    reads[reference] = .failure(state.lastErrors[reference] ?? VaultReadError("\(reference) was not read yet"))
                }
            }
            return reads
        }
    }

    /// Asks the thread for a round with `references` at once and waits for it (at most `timeoutSeconds`), then
    /// answers what `current` holds: a reload during an outage gets the last good values.
    public func refresh(_ references: [VaultSecretReference], timeoutSeconds: Double = 15) -> VaultReads {
        let done = DispatchSemaphore(value: 0)
        let running = state.withLock { state in
            state.references = references
            if state.started && !state.stopped { state.waiters.append(done) }
            return state.started && !state.stopped
        }
        if running {
            wake.signal()
            _ = done.wait(timeout: .now() + timeoutSeconds)
        } else {
            _ = round(references, notify: true)
        }
        return current(references)
    }

    public var status: Status {
        state.withLock { Status(up: $0.up, lastSuccess: $0.lastSuccess) }
    }

    /// Starts the refresh thread; `onChange` is called on it with every round's changed tokens.
    public func start(onChange: @escaping @Sendable ([VaultTokenChange]) -> Void) {
        self.onChange.withLock { $0 = onChange }
        let begin = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard begin else { return }
        let thread = Thread { [self] in run() }
        thread.name = "jg-vault"
        thread.start()
    }

    /// Stops the thread (after the round in progress, if any).
    public func stop() {
        let wasRunning = state.withLock { state in
            defer { state.stopped = true }
            return state.started && !state.stopped
        }
        guard wasRunning else { return }
        wake.signal()
        _ = finished.wait(timeout: .now() + 15)
    }

    /// Sleeps until the next round (`refresh_s` after the last), the token's renewal time if that comes first,
    /// or a wake-up (a refresh asked for, stop). A renewal wake-up renews only; reads stay on their schedule.
    private func run() {
        var nextRound = VaultSession.monotonicSeconds() + Double(config.refreshSeconds)
        while true {
            let now = VaultSession.monotonicSeconds()
            // A step already due (a renewal that failed, Vault down) is retried once a second, not in a loop.
            let renewal = session.withLock { $0.secondsUntilTokenStep(at: now) }.map { $0 > 0 ? $0 : 1 }
            let wait = min(max(nextRound - now, 0), renewal ?? .infinity)
            let woken = wake.wait(timeout: .now() + wait) == .success
            let (references, waiters, stopped) = state.withLock { state in
                defer { state.waiters = [] }
                return (state.references, state.waiters, state.stopped)
            }
            if stopped {
                waiters.forEach { $0.signal() }
                finished.signal()
                return
            }
            guard woken || VaultSession.monotonicSeconds() >= nextRound else {
                session.withLock { $0.keepTokenAlive() }
                continue
            }
            _ = round(references, notify: true)
            nextRound = VaultSession.monotonicSeconds() + Double(config.refreshSeconds)
            waiters.forEach { $0.signal() }
        }
    }

    /// One round: reads, keeps the last good values, logs transitions once, reports changed tokens.
    private func round(_ references: [VaultSecretReference], notify: Bool) -> VaultReads {
        let (reads, reachable) = session.withLock { $0.read(references) }
        let now = Int64(Date().timeIntervalSince1970)
        var changes: [VaultTokenChange] = []
        var logs: [() -> Void] = []
        state.withLock { state in
            if reachable != state.up {
                let firstError = reads.values.compactMap { if case .failure(let error) = $0 { error.message } else { nil } }.first
                if reachable {
                    logs.append { [logger] in logger.notice("Vault is reachable again; tokens are read as before") }
                } else {
                    logs.append { [logger] in
                        logger.error("Vault cannot be read; requests go on with the last tokens read",
                                     metadata: ["reason": .string(firstError ?? "unknown")])
                    }
                }
                state.up = reachable
            }
            var allRead = reachable
            for reference in references {
                switch reads[reference] {
                case .success(let value):
                    if state.lastErrors.removeValue(forKey: reference) != nil, reachable {
                        logs.append { [logger] in logger.notice("Vault secret readable again", metadata: ["source": .string(reference.description)]) }
                    }
                    let previous = state.lastGood[reference]
                    if let previous, previous.value != value.value {
                        changes.append(VaultTokenChange(
                            reference: reference, value: value,
                            oldFingerprint: UpstreamTokenFingerprint.of(previous.value.reveal()),
                            newFingerprint: UpstreamTokenFingerprint.of(value.value.reveal())))
                    }
                    state.lastGood[reference] = value
                case .failure(let error):
                    allRead = false
                    let changed = state.lastErrors[reference] != error
                    state.lastErrors[reference] = error
                    if changed, reachable, state.lastGood[reference] != nil {
                        logs.append { [logger] in
                            logger.warning("a Vault secret cannot be read; its last value stays in use",
                                           metadata: ["reason": .string(error.message)])
                        }
                    }
                case nil:
                    allRead = false
                }
            }
            if allRead { state.lastSuccess = now }
        }
        logs.forEach { $0() }
        if notify, !changes.isEmpty, let onChange = onChange.withLock({ $0 }) { onChange(changes) }
        return reads
    }
}
