#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateHTTP
import JustGateRedis
import JustGateServer
import JustGateReactor
import JustGateUpstream
import Logging
import Synchronization

/// A running gateway: the site-facing server, its per-loop request drivers and upstream clients, and the
/// embedded sandbox when the config asks for one. `serve` and the integration tests both start
/// exactly this, so the tests exercise what operators run.
public final class GatewayRuntime: Sendable {
    public let address: SocketAddress
    /// Where the admin endpoints listen, when `admin_listen` is set.
    public let adminAddress: SocketAddress?
    public let sandbox: SandboxServer?
    public let contextStore: GatewayContextStore
    public let metrics: GatewayMetrics
    /// The upstream circuit breaker, retry budget and in-flight count, shared by every loop;
    /// read `circuitState` and `callsInFlight` for readiness and metrics.
    public let upstreamGuards: UpstreamGuards
    /// Remembered `Idempotency-Key`s of `profile.create`.
    public let idempotencyStore: IdempotencyStore
    /// The audit log, when `audit.enabled`.
    public let audit: AuditTrail?
    /// Deferred calls waiting for delivery; nil unless some site lists operations in `defer`.
    public let outbox: OutboxFileStore?
    private let server: HTTPServer
    private let adminServer: HTTPServer?
    let reloading: Reloading
    /// Where `{ vault: PATH }` tokens are read again every `refresh_s`; nil without `secrets.vault`.
    public let vault: VaultSecretSource?
    /// Set when `stop` begins, for `/readyz`.
    private let draining = DrainingFlag()

    /// - Parameters:
    ///   - logger: for the gateway's own events; its label and level also apply to request lines.
    ///   - requestLogSink: where request lines go; the same sink `logger`'s handler writes to.
    ///   - replaceListeners: start even when another process listens on `listen` (`serve --replace`), and take
    ///     the audit log over once that process lets go of it (`AuditWriter`'s `takeOver`).
    ///   - rateLimitKeySecret: the bytes of `rate_limit.key_secret` (resolved by the caller, like `auditKey`).
    ///   - configSource: reads and resolves the config again, for `POST /reload` and `reload()`; nil
    ///     when the gateway was started from a value (tests) and reloads are given the value instead.
    ///   - vault: the source `sites`' Vault tokens were read from (`readNow`); the runtime starts its refresh
    ///     thread, puts changed tokens in force through `Reloading`, and stops it in `stop`.
    public init(config: GatewayConfig, sites: [ResolvedSite], logger: Logger, vault: VaultSecretSource? = nil,
                requestLogSink: LogSink = .standardError, replaceListeners: Bool = false, auditKey: [UInt8]? = nil,
                rateLimitKeySecret: [UInt8]? = nil,
                wallClock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) },
                configSource: ConfigSource? = nil, sandboxOutage: SandboxOutage? = nil) throws {
        let redisSettings = try GatewayRuntime.redisSettings(config.rateLimit, keySecret: rateLimitKeySecret, logger: logger)
        var idempotencySettings = try IdempotencyRedisSettings(config.idempotency, keySecret: rateLimitKeySecret, logger: logger)
        let outbox = try GatewayRuntime.openOutbox(config, logger: logger, takeOver: replaceListeners)
        let redisOutbox = try GatewayRuntime.redisOutbox(config, logger: logger)
        if let endpoint = idempotencySettings?.endpoint {
            // One question and one log line per Redis server: persistence is the server's, not the database's.
            let answers = "remembered idempotent answers (idempotency)"
            if let shared = redisOutbox?.persistence, shared.isSameServer(as: endpoint) {
                shared.alsoHolds(answers, keepsCalls: false)
                idempotencySettings?.persistence = shared
            } else {
                idempotencySettings?.persistence = RedisPersistenceCheck(endpoint: endpoint, holds: answers, keepsCalls: false,
                                                                         logger: logger)
            }
        }
        let idempotencyRedis = idempotencySettings
        var sandbox: SandboxServer?
        let baseURL: String
        switch config.upstream.target {
        case .sandbox:
            guard let loopback = SocketAddress(host: "127.0.0.1", port: 0) else { throw GatewayStartError("cannot form a loopback address") }
            let started = try SandboxServer(listen: loopback, tokens: Set(sites.map { $0.upstreamToken.reveal() }),
                                            unavailableForMs: sandboxOutage?.forMs ?? 0,
                                            unavailableAfterMs: sandboxOutage?.afterMs ?? 0)
            sandbox = started
            baseURL = started.baseURL
        case .url(let url):
            baseURL = url
        }
        guard let listen = SocketAddress(host: config.listen.host, port: config.listen.port) else {
            sandbox?.stop()
            outbox?.stop()
            throw GatewayStartError("listen address \(config.listen) is not a numeric IPv4 or IPv6 address")
        }
        let audit: AuditTrail?
        do {
            audit = try config.audit.enabled ? AuditTrail(
                writer: AuditWriter(config: config.audit, key: auditKey, logger: logger,
                                    inFlightAllowance: config.server.maxConnections, takeOver: replaceListeners),
                isRequired: config.audit.required) : nil
        } catch let inUse as AuditWriter.LogInUse {
            sandbox?.stop()
            outbox?.stop()
            throw GatewayStartError("cannot open the audit log: \(inUse)")
        } catch {
            sandbox?.stop()
            outbox?.stop()
            throw GatewayStartError("""
                cannot open the audit log: \(error); fix the path or its permissions (audit.path), or set \
                audit.enabled: false
                """)
        }
        let store = GatewayContextStore(GatewayContext(config: config, sites: sites, upstreamBaseURL: baseURL))
        let httpVersion: UpstreamHTTPVersionChoice = switch config.upstream.httpVersion {
        case .auto: .auto
        case .http1_1: .http1_1
        case .http2: .http2
        }
        let upstreamConfiguration = UpstreamClientConfiguration(
            connectTimeoutMs: config.upstream.connectTimeoutMs, timeoutMs: config.upstream.timeoutMs,
            maxResponseBytes: config.upstream.maxResponseBytes, caFile: config.upstream.caFile, httpVersion: httpVersion)
        let quotaMemory = MemoryQuotaStore(maxKeys: config.rateLimit.maxKeys)
        let metrics = GatewayMetrics()
        let circuitLog = CircuitTransitionLog(logger: logger, config: config.upstream.circuit)
        let guards = UpstreamGuards(circuit: config.upstream.circuit, retries: config.upstream.retries,
                                    maxInFlight: config.upstream.maxInFlight, onTransition: circuitLog.changed)
        let idempotencyStore = IdempotencyStore(config.idempotency)
        let requestLogLabel = logger.label
        let requestLogThreshold = logger.logLevel
        var serverConfiguration = ServerConfiguration(
            address: listen, workers: config.server.workers, maxConnections: config.server.maxConnections,
            headerTimeoutMs: config.server.headerTimeoutMs, bodyTimeoutMs: config.server.bodyTimeoutMs,
            idleTimeoutMs: config.server.idleTimeoutMs, drainTimeoutMs: config.shutdown.graceMs,
            limits: config.server.httpLimits, errorResponse: GatewayRuntime.serverError)
        serverConfiguration.joinExistingListeners = replaceListeners
        // The site listener only: the admin listener answers operators, never through the site proxy.
        serverConfiguration.trustedProxies = config.server.trustedProxies
        let server = HTTPServer(
            configuration: serverConfiguration,
            handlerFactory: { loop in
                let redis = redisSettings.map { settings in
                    RedisQuotaStore(loop: loop, target: settings.target, endpoint: settings.endpoint,
                                    timeoutMs: config.rateLimit.redisTimeoutMs, keySecret: settings.keySecret,
                                    onStateChange: { settings.health.connection($0, reason: $1) })
                }
                let quota = QuotaGate(memory: quotaMemory, redis: redis, onBackendError: config.rateLimit.onBackendError,
                                      loop: loop)
                // A loop without an upstream client could only answer 503: fail start-up instead.
                let client = try UpstreamClient(loop: loop, configuration: upstreamConfiguration)
                let upstream = ResilientUpstream(client: client, loop: loop, guards: guards, retries: config.upstream.retries)
                let requestLog = RequestLog(sink: requestLogSink, label: requestLogLabel, threshold: requestLogThreshold)
                let exit = RequestExit(log: requestLog, audit: audit, metrics: metrics.recorder(), logPolicy: config.log.requests,
                                       sampleSuccess: config.log.sampleSuccess)
                let idempotencyBackend: any IdempotencyBackend = idempotencyRedis.map { $0.store(on: loop) } ?? idempotencyStore
                let driver = RequestDriver(contextStore: store, quota: quota, upstream: upstream,
                                           idempotency: IdempotencyGate(backend: idempotencyBackend), exit: exit, wallClock: wallClock)
                // The drain's floor is per gateway; each loop starts its share (`workers: 0` is a loop per core).
                let floor = Double(config.outbox.minDeliveryRate) / Double(HTTPServer.loopCount(workers: config.server.workers))
                let lane: OutboxLane? = if let outbox {
                    try OutboxLane(store: outbox, loop: loop, upstream: upstream, contexts: store, floorPerSecond: floor)
                } else if let redisOutbox {
                    OutboxLane(backend: RedisOutboxStore(loop: loop, shared: redisOutbox), loop: loop, upstream: upstream,
                               contexts: store, floorPerSecond: floor)
                } else {
                    nil
                }
                if let lane {
                    // Delivers this loop's share of the outbox; the driver defers through the same lane.
                    if let writer = audit?.writer {
                        // Each delivery verdict in the audit chain; a full queue is logged, never waited for.
                        lane.engine.onSettled = { entry, verdict, update in
                            guard let record = DeliveryAudit.record(entry, verdict: verdict, update: update,
                                                                    nowMs: OutboxFileStore.wallClockMs()) else { return }
                            if !writer.submitEvent(record) {
                                logger.error("a delivery could not be recorded in the audit log",
                                             metadata: ["outbox_entry": .string(entry.id)])
                            }
                        }
                    }
                    lane.engine.start()
                    driver.outbox = lane
                }
                return driver
            })
        let reloading = Reloading(started: config, baseURL: baseURL, store: store, sandbox: sandbox, metrics: metrics,
                                  logger: logger, source: configSource, audit: audit?.writer)
        do {
            self.address = try server.start()
        } catch {
            sandbox?.stop()
            outbox?.stop()
            audit?.writer.stop()
            throw error
        }
        do {
            (adminServer, adminAddress) = try GatewayRuntime.startAdmin(config, server: server, metrics: metrics,
                                                                       reloading: reloading, guards: guards, audit: audit,
                                                                       replaceListeners: replaceListeners, draining: draining,
                                                                       redisHealth: redisSettings?.health, contextStore: store,
                                                                       vault: vault, outbox: outbox, redisOutbox: redisOutbox,
                                                                       logger: logger, wallClock: wallClock)
        } catch {
            server.stop()
            audit?.writer.stop()
            sandbox?.stop()
            outbox?.stop()
            throw error
        }
        self.server = server
        self.audit = audit
        self.sandbox = sandbox
        self.contextStore = store
        self.metrics = metrics
        self.reloading = reloading
        self.upstreamGuards = guards
        self.idempotencyStore = idempotencyStore
        self.outbox = outbox
        self.vault = vault
        vault?.start(onChange: { [reloading] changes in reloading.replaceSecrets(changes) })
    }

    /// The admin listener on `admin_listen`: one loop of its own, so a scrape or a reload never
    /// runs on a loop that serves sites. A hand-over (`replaceListeners`) joins it like the site listener:
    /// both processes answer health probes until the old one stops.
    private static func startAdmin(_ config: GatewayConfig, server: HTTPServer, metrics: GatewayMetrics,
                                   reloading: Reloading, guards: UpstreamGuards,
                                   audit: AuditTrail?, replaceListeners: Bool, draining: DrainingFlag,
                                   redisHealth: RedisHealth?, contextStore: GatewayContextStore,
                                   vault: VaultSecretSource?, outbox: OutboxFileStore?, redisOutbox: RedisOutboxShared?,
                                   logger: Logger,
                                   wallClock: @escaping @Sendable () -> Int64) throws -> (HTTPServer?, SocketAddress?) {
        guard let admin = config.adminListen else { return (nil, nil) }
        guard let address = SocketAddress(host: admin.host, port: admin.port) else {
            throw GatewayStartError("admin_listen \(admin) is not a numeric IPv4 or IPv6 address")
        }
        let actions = AdminHandler.Actions(
            readiness: {
                var readiness = Readiness()
                if draining.isSet {
                    readiness.reasons.append("draining: this gateway is stopping and accepts no new connections")
                }
                if let redisHealth, redisHealth.isRefusing {
                    readiness.reasons.append("Redis for rate limiting is down and rate_limit.on_backend_error is deny, "
                        + "so every limited request is refused")
                }
                if let audit, !audit.writer.isAvailable {
                    readiness.reasons.append("the audit log cannot be written (\(audit.writer.path))")
                }
                switch guards.circuitState {
                case .open:
                    readiness.notes.append("the upstream circuit is open (the upstream keeps failing; "
                        + "requests get 503 with Retry-After until a probe succeeds)")
                case .halfOpen:
                    readiness.notes.append("the upstream circuit is half-open (one probe call is testing the upstream)")
                case .closed:
                    break
                }
                return readiness
            },
            metrics: {
                var readings = GatewayMetrics.Readings(openConnections: server.connectionCount,
                                                       upstreamInFlight: guards.callsInFlight,
                                                       circuit: guards.circuitState,
                                                       auditWriteErrors: audit?.writer.writeErrors)
                readings.rateLimitFallbackActive = redisHealth?.isDown ?? false
                readings.sites = contextStore.current.sites.map(\.config)
                readings.now = wallClock()
                readings.siteKeysLastUsed = contextStore.current.keyUsage.lastUses
                readings.secretSource = vault?.status
                readings.outbox = outbox?.readings(nowMs: OutboxFileStore.wallClockMs()) ?? redisOutbox?.readings()
                return metrics.exposition(readings)
            },
            reload: { peer in
                let outcome = reloading.reload(by: .admin(peer: peer))
                return (outcome.applied, outcome.message)
            },
            keys: { contextStore.current.keyUsage.json() })
        let tokenHash = config.adminTokenSHA256
        var configuration = ServerConfiguration(address: address, workers: 1, maxConnections: 64, headerTimeoutMs: 5000,
                                                bodyTimeoutMs: 5000, idleTimeoutMs: 30_000, drainTimeoutMs: 1000)
        configuration.threadNamePrefix = "jg-admin"
        configuration.joinExistingListeners = replaceListeners
        // A flood of silent or slow connections must not keep a health probe out (an orchestrator would
        // restart a healthy gateway): one peer holds at most 16, a silent one is dropped after 2 s, and
        // at 64 the oldest connection with no request in progress makes room for the new one.
        configuration.maxConnectionsPerPeer = 16
        configuration.firstByteTimeoutMs = 2000
        configuration.evictIdleWhenFull = true
        let adminServer = HTTPServer(configuration: configuration,
                                     handlerFactory: { loop in
            // With Redis the admin loop has its own connection to the outbox.
            let store: (any OutboxAdminStore)? = outbox ?? redisOutbox.map { RedisOutboxStore(loop: loop, shared: $0) }
            var record: (@Sendable (AuditRecord) -> Bool)?
            if let writer = audit?.writer { record = { writer.submitEvent($0) } }
            return AdminHandler(actions: actions, tokenHash: tokenHash,
                                outbox: store.map { OutboxAdmin(store: $0, audit: record, logger: logger) })
        })
        return (adminServer, try adminServer.start())
    }

    /// Reads the config again (SIGHUP, `POST /reload`) and applies it if it is valid; otherwise keeps
    /// serving the old one. The outcome is logged and counted either way.
    /// `trigger` says who asked, for the reload's audit record.
    @discardableResult
    public func reload(by trigger: ReloadTrigger = .signal) -> ReloadOutcome {
        reloading.reload(by: trigger)
    }

    /// Applies an already loaded config (tests, and callers that load it themselves).
    @discardableResult
    public func reload(config: GatewayConfig, sites: [ResolvedSite]) -> ReloadOutcome {
        reloading.apply(config: config, sites: sites, by: .api)
    }

    /// Stops accepting, lets requests in flight finish (up to `shutdown.grace_ms`), writes and syncs
    /// their audit records, then stops the admin listener and the sandbox.
    public func stop() {
        // Not ready from the first moment: the admin listener answers 503 on /readyz through the drain.
        draining.set()
        vault?.stop()
        // Before the drain: a process taking over (`serve --replace`) can open the outbox only once this one
        // lets go of it (`OutboxFileStore+TakeOver`).
        outbox?.release()
        server.stop()
        // After the loops: no delivery records an attempt any more; what is queued is written and synced.
        outbox?.stop()
        audit?.writer.stop()
        adminServer?.stop()
        sandbox?.stop()
    }

    public var connectionCount: Int { server.connectionCount }

    /// The file outbox, opened (and replayed) when a site lists operations in `defer` and `backend: file`.
    /// With `takeOver` (`serve --replace`) an outbox another process holds is opened once that process lets go.
    private static func openOutbox(_ config: GatewayConfig, logger: Logger, takeOver: Bool) throws -> OutboxFileStore? {
        guard config.outbox.backend == .file, config.sites.contains(where: { !$0.deferredOperations.isEmpty }) else { return nil }
        return try OutboxFileStore(config: config.outbox, logger: logger, takeOver: takeOver)
    }

    /// What every loop's Redis outbox store shares, when a site lists operations in `defer` and
    /// `backend: redis`: no lock and no take-over, since any number of gateways share it.
    private static func redisOutbox(_ config: GatewayConfig, logger: Logger) throws -> RedisOutboxShared? {
        guard config.outbox.backend == .redis, config.sites.contains(where: { !$0.deferredOperations.isEmpty }) else { return nil }
        return try RedisOutboxShared(config.outbox, logger: logger)
    }

    /// What every loop's Redis limiter needs, worked out once: nil for the memory backend.
    private struct RedisSettings: Sendable {
        var endpoint: RedisEndpoint
        var target: RedisTarget
        var health: RedisHealth
        /// `rate_limit.key_secret`'s bytes, resolved at start (rate_limit changes need a restart).
        var keySecret: [UInt8]?
    }

    private static func redisSettings(_ config: RateLimitConfig, keySecret: [UInt8]?, logger: Logger) throws -> RedisSettings? {
        guard config.backend == .redis, let url = config.redisURL else { return nil }
        let endpoint: RedisEndpoint
        switch RedisEndpoint.parse(url) {
        case .success(let parsed): endpoint = parsed
        case .failure(let problem): throw GatewayStartError("rate_limit.redis_url: \(problem.message)")
        }
        let target = try RedisTargetResolver.resolve(endpoint)
        return RedisSettings(endpoint: endpoint, target: target,
                             health: RedisHealth(logger: logger, endpoint: endpoint, fallback: config.onBackendError),
                             keySecret: keySecret)
    }

    /// Problem responses for errors the server finds before the request driver runs (malformed HTTP, timeouts; see `Problem.server`).
    static let serverError: @Sendable (Int, String) -> HTTPResponse = { status, detail in
        var ids = RequestIDGenerator()
        return Problem.server(status: status, detail: detail).response(requestID: ids.next())
    }
}

/// Whether the gateway has begun to stop: read by `/readyz` on the admin loop, set by `stop`.
final class DrainingFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Start-up failures that are not socket errors, with a message that says what to fix.
public struct GatewayStartError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension ServerConfig {
    /// The HTTP parser limits this config sets.
    var httpLimits: HTTPLimits {
        HTTPLimits(maxRequestLineBytes: maxRequestLineBytes, maxHeaderLineBytes: maxHeaderLineBytes,
                   maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
    }
}
