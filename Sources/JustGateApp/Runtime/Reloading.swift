import JustGateCore
import Logging
import Synchronization

/// Where a reload gets the config from: the file read and every secret resolved again.
public typealias ConfigSource = @Sendable () -> Result<(config: GatewayConfig, sites: [ResolvedSite]), ReloadFailure>

/// Why a reload read nothing usable; the message says what to fix.
public struct ReloadFailure: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Who asked for a reload, as its audit record's `client` says it.
public enum ReloadTrigger: Sendable, Equatable {
    /// SIGHUP (`systemctl reload`, `kill -HUP`).
    case signal
    /// `POST /reload` on the admin listener, from this peer address.
    case admin(peer: String)
    /// A program that embeds the gateway (`GatewayRuntime.reload(config:sites:)`, tests).
    case api

    /// The audit record's `client`: `signal`, the admin peer's address, or `api`.
    var auditClient: String {
        switch self {
        case .signal: "signal"
        case .admin(let peer): peer
        case .api: "api"
        }
    }

    /// How the audit record's `note` begins.
    var phrase: String {
        switch self {
        case .signal: "by signal (SIGHUP)"
        case .admin(let peer): "by admin POST /reload from \(peer)"
        case .api: "by the embedding program"
        }
    }
}

/// The result of one reload, as logged and answered by `POST /reload`.
public struct ReloadOutcome: Sendable {
    /// Whether the new sites, keys, tokens, limits, operations and validation are in force.
    public var applied: Bool
    public var message: String
    /// Settings that changed but only take effect after a restart.
    public var needsRestart: [String]
    /// The longest `note` of a reload's audit record, in characters.
    static let maxAuditNoteLength = 1000
}

/// Swaps in a new config while the gateway runs. What the pipeline reads (sites, keys, tokens,
/// limits, operation overrides, validation) is one immutable `GatewayContext`, replaced whole: a
/// request in flight finishes with the context it started with. Rate-limit counts live outside
/// the context, keyed by each policy's identity, so unchanged policies keep theirs. Listeners,
/// server limits, the limiter's backend and the upstream client's settings are fixed at start;
/// a change to them is reported as needing a restart rather than half-applied.
final class Reloading: Sendable {
    private let started: GatewayConfig
    private let baseURL: String
    private let store: GatewayContextStore
    private let sandbox: SandboxServer?
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let source: ConfigSource?
    /// Where each reload, applied or refused, is recorded (`event: reload`); `nil` without an audit log.
    private let audit: AuditWriter?
    /// One reload at a time: SIGHUP, `/reload` and a token rotated in Vault may arrive together. Holds the
    /// reload count and the config in force, which a token rotation rebuilds the context from.
    private let serial: Mutex<(count: Int, config: GatewayConfig)>

    init(started: GatewayConfig, baseURL: String, store: GatewayContextStore, sandbox: SandboxServer?,
         metrics: GatewayMetrics, logger: Logger, source: ConfigSource?, audit: AuditWriter?) {
        self.audit = audit
        self.started = started
        serial = Mutex((count: 0, config: started))
        self.baseURL = baseURL
        self.store = store
        self.sandbox = sandbox
        self.metrics = metrics
        self.logger = logger
        self.source = source
    }

    func reload(by trigger: ReloadTrigger) -> ReloadOutcome {
        guard let source else {
            return failed("this gateway was not started from a config file; nothing to read again", by: trigger)
        }
        switch source() {
        case .success(let loaded): return apply(config: loaded.config, sites: loaded.sites, by: trigger)
        case .failure(let failure): return failed(failure.message, by: trigger)
        }
    }

    func apply(config: GatewayConfig, sites: [ResolvedSite], by trigger: ReloadTrigger) -> ReloadOutcome {
        serial.withLock { serial in
            serial.config = config
            let previous = store.current.sites.map { ResolvedSite(config: $0.config, upstreamToken: $0.upstreamToken) }
            let changes = ReloadChanges(old: previous, new: sites)
            serial.count += 1
            if case .sandbox = config.upstream.target {
                sandbox?.api.accept(tokens: Set(sites.map { $0.upstreamToken.reveal() }))
            }
            var restart = Reloading.needsRestart(started, config)
            let base: String
            switch config.upstream.target {
            case .sandbox where sandbox != nil: base = baseURL
            case .sandbox:
                base = store.current.upstreamBaseURL
                restart.append("upstream.url (the sandbox starts with the gateway)")
            case .url(let url): base = url
            }
            store.replace(with: GatewayContext(config: config, sites: sites, upstreamBaseURL: base, previous: store.current))
            metrics.reloaded(ok: true)
            var metadata: Logger.Metadata = ["sites": .stringConvertible(sites.count), "reload": .stringConvertible(serial.count),
                                             "changes": .string(changes.sentence)]
            if !restart.isEmpty { metadata["needs_restart"] = .string(restart.joined(separator: ", ")) }
            logger.notice("config reloaded", metadata: metadata)
            let restartNote = restart.isEmpty ? "" : "; only after a restart: \(restart.joined(separator: ", "))"
            record(applied: true, note: "applied \(trigger.phrase): \(changes.sentence)\(restartNote)", by: trigger)
            let note = restart.isEmpty ? "" : "; changed but only applied after a restart: \(restart.joined(separator: ", "))"
            return ReloadOutcome(applied: true, message: "reloaded: \(sites.count) site\(sites.count == 1 ? "" : "s")\(note)",
                                 needsRestart: restart)
        }
    }

    /// Puts secrets that changed in Vault in force: a new context from the config in force with each affected
    /// site's new token or key list, swapped in like a reload's, so a request in flight keeps what it started
    /// with. Logged and audited per site with fingerprints and the KV version, never a value. A key list that
    /// cannot be used (not JSON, empty, a key of another site) is refused with a warning; the last good one stays.
    func replaceSecrets(_ changes: [VaultTokenChange]) {
        serial.withLock { serial in
            let current = store.current
            var tokens: [(site: String, change: VaultTokenChange)] = []
            var keyLists: [(site: String, change: VaultTokenChange, difference: String)] = []
            var configs = current.sites.map(\.config)
            var upstreamTokens = current.sites.map(\.upstreamToken)
            for (index, site) in current.sites.enumerated() {
                if let reference = site.config.vaultReference, let change = changes.first(where: { $0.reference == reference }) {
                    tokens.append((site.id, change))
                    upstreamTokens[index] = change.value.value
                }
                guard let reference = site.config.keysFromVault,
                      let change = changes.first(where: { $0.reference == reference }) else { continue }
                switch VaultSiteKeys.parse(change.value.value.reveal(), from: reference) {
                case .success(let keys):
                    // Back to the list in force (after a list that could not be used): nothing changes.
                    if keys == configs[index].keys { continue }
                    var candidate = configs
                    candidate[index].keys = keys
                    if let clash = SecretResolver.keysOfTwoSites(candidate).first {
                        refuseKeys(site: site.id, reason: clash.message)
                        continue
                    }
                    keyLists.append((site.id, change, VaultSiteKeys.difference(old: configs[index].keys, new: keys)))
                    configs = candidate
                case .failure(let error):
                    refuseKeys(site: site.id, reason: error.message)
                }
            }
            guard !tokens.isEmpty || !keyLists.isEmpty else { return }
            let sites = zip(configs, upstreamTokens).map { ResolvedSite(config: $0, upstreamToken: $1) }
            if case .sandbox = serial.config.upstream.target {
                sandbox?.api.accept(tokens: Set(sites.map { $0.upstreamToken.reveal() }))
            }
            store.replace(with: GatewayContext(config: serial.config, sites: sites, upstreamBaseURL: current.upstreamBaseURL,
                                               previous: current))
            for (site, change) in tokens {
                let version = change.value.version.map { "version \($0)" } ?? "KV v1"
                logger.notice("upstream token rotated in Vault; the next request uses it", metadata: [
                    "site": .string(site), "source": .string(change.reference.description),
                    "old_fingerprint": .string(change.oldFingerprint), "new_fingerprint": .string(change.newFingerprint),
                    "kv_version": .string(version),
                ])
                recordRotation(site: site, note: """
                    upstream token from \(change.reference) (\(version)): \(change.oldFingerprint) -> \(change.newFingerprint)
                    """)
            }
            for (site, change, difference) in keyLists {
                let version = change.value.version.map { "version \($0)" } ?? "KV v1"
                logger.notice("site keys changed in Vault; the next request uses them", metadata: [
                    "site": .string(site), "source": .string(change.reference.description),
                    "keys": .string(difference), "kv_version": .string(version),
                ])
                recordRotation(site: site, note: "site keys from \(change.reference) (\(version)): \(difference)")
            }
        }
    }

    /// A key list from Vault that cannot be used: warned about once per change, the last good list stays.
    private func refuseKeys(site: String, reason: String) {
        logger.warning("site keys read from Vault cannot be used; the last good keys stay in force",
                       metadata: ["site": .string(site), "reason": .string(reason)])
    }

    /// The rotation as an audit record (`event: secret_rotated`): site, source, fingerprints and version.
    private func recordRotation(site: String, note: String) {
        guard let audit else { return }
        var record = AuditRecord(time: AuditTime.format(unixMillis: AuditWriter.wallClockMillis()), event: .secretRotated)
        record.site = site
        record.client = "vault"
        record.outcome = "applied"
        record.note = note
        if !audit.submitEvent(record) {
            logger.error("the secret rotation could not be recorded in the audit log", metadata: ["audit_path": .string(audit.path)])
        }
    }

    private func failed(_ reason: String, by trigger: ReloadTrigger) -> ReloadOutcome {
        metrics.reloaded(ok: false)
        logger.error("reload failed; still serving the previous config", metadata: ["reason": .string(reason)])
        record(applied: false, note: "refused \(trigger.phrase), still serving the previous config: \(reason)", by: trigger)
        return ReloadOutcome(applied: false, message: "not reloaded, still serving the previous config: \(reason)",
                             needsRestart: [])
    }

    /// Puts the reload in the audit chain: `client` who asked, `outcome` `applied` or `refused`, `note` what
    /// changed or why not (bounded; the reason is a config problem's text, which never holds a secret).
    private func record(applied: Bool, note: String, by trigger: ReloadTrigger) {
        guard let audit else { return }
        var record = AuditRecord(time: AuditTime.format(unixMillis: AuditWriter.wallClockMillis()), event: .reload)
        record.client = trigger.auditClient
        record.outcome = applied ? "applied" : "refused"
        record.note = note.count <= ReloadOutcome.maxAuditNoteLength ? note
            : String(note.prefix(ReloadOutcome.maxAuditNoteLength - 1)) + "…"
        if !audit.submitEvent(record) {
            logger.error("the reload could not be recorded in the audit log (stopping, or the log cannot be written)",
                         metadata: ["audit_path": .string(audit.path)])
        }
    }

    /// The settings that differ between the config the gateway started with and `new`, among those
    /// a reload cannot change.
    static func needsRestart(_ old: GatewayConfig, _ new: GatewayConfig) -> [String] {
        var changed: [String] = []
        if old.listen != new.listen { changed.append("listen") }
        if old.adminListen != new.adminListen { changed.append("admin_listen") }
        if old.adminTokenSHA256 != new.adminTokenSHA256 { changed.append("admin_token_sha256") }
        if old.server != new.server { changed.append("server") }
        if old.rateLimit != new.rateLimit { changed.append("rate_limit") }
        // One store per process (memory) or one connection per loop (Redis), made at start.
        if old.idempotency != new.idempotency { changed.append("idempotency") }
        if old.upstream.connectTimeoutMs != new.upstream.connectTimeoutMs || old.upstream.timeoutMs != new.upstream.timeoutMs
            || old.upstream.maxResponseBytes != new.upstream.maxResponseBytes || old.upstream.caFile != new.upstream.caFile {
            changed.append("upstream timeouts and limits")
        }
        if old.upstream.httpVersion != new.upstream.httpVersion { changed.append("upstream.http_version") }
        // One breaker, retry budget and in-flight count per process, made at start (`UpstreamGuards`), and each
        // loop's retry policy with them: a reload that changed them used to say "reloaded" and keep the old ones.
        if old.upstream.retries != new.upstream.retries || old.upstream.circuit != new.upstream.circuit
            || old.upstream.maxInFlight != new.upstream.maxInFlight {
            changed.append("upstream retries, circuit and max_in_flight")
        }
        if old.audit != new.audit { changed.append("audit") }
        if old.log != new.log { changed.append("log") }
        if old.shutdown != new.shutdown { changed.append("shutdown") }
        if old.vault != new.vault { changed.append("secrets.vault") }
        // The outbox is opened at start, with the settings then in force, and only when a site defers: a reload
        // that changed it, or gave a site a defer list while none is open, said "reloaded" and kept the old.
        if old.outbox != new.outbox { changed.append("outbox") }
        let deferred = { (config: GatewayConfig) in config.sites.contains { !$0.deferredOperations.isEmpty } }
        if !deferred(old) && deferred(new) { changed.append("sites[].defer (no outbox is open until a restart)") }
        return changed
    }
}
