import JustGateHTTP

/// The whole gateway configuration, frozen after loading.
///
/// It exists so that every other module reads one checked, immutable value instead of raw YAML: by the time a
/// `GatewayConfig` exists, every field has been type-checked, range-checked and defaulted by `ConfigLoader`.
/// Secrets are still only *sources* here; `SecretResolver` turns them into values at start-up.
public struct GatewayConfig: Sendable {
    /// Where sites connect; the only listener exposed to the outside world.
    public var listen: ListenAddress
    /// Where the admin endpoints listen, kept apart from `listen` so they can stay on loopback; `nil` disables them.
    public var adminListen: ListenAddress?
    /// The Just Services API (or the embedded sandbox) that requests are forwarded to.
    public var upstream: UpstreamConfig
    /// Limits and timeouts of the site-facing HTTP server.
    public var server: ServerConfig
    /// How request validation treats fields it does not know.
    public var validation: ValidationConfig
    /// The sites allowed to call the gateway, in file order; at least one.
    public var sites: [SiteConfig]
    /// Per-operation overrides keyed by operation id (only ids the catalogue knows).
    public var operations: [String: OperationOverride]
    /// Where the audit trail is written.
    public var audit: AuditConfig
    /// How chatty the gateway's own log is.
    public var log: LogConfig
    /// Where rate-limit counts are kept (the policies themselves are per site).
    public var rateLimit: RateLimitConfig
    /// SHA-256 of the token the admin endpoints demand (`Authorization: Bearer`); nil: none demanded,
    /// which the loader allows only on a loopback `admin_listen`.
    public var adminTokenSHA256: [UInt8]?
    /// How a stop drains.
    public var shutdown: ShutdownConfig
    /// How `Idempotency-Key`s of `profile.create` are remembered.
    public var idempotency: IdempotencyConfig = IdempotencyConfig()
    /// The relative paths the file wrote and the config file's directory they were joined to
    /// (`ConfigRelativePaths`); empty for YAML that came from no file. Only `check-config` reads it.
    public var relativePaths: [ResolvedConfigPath] = []
    /// `secrets.vault`: where `{ vault: PATH }` upstream tokens are read; nil when no `secrets:` section.
    public var vault: VaultConfig?
    /// Where deferred calls wait for delivery (`sites[].defer`).
    public var outbox: OutboxConfig = OutboxConfig()

    /// Builds a configuration directly, for tests and for callers that do not start from YAML.
    public init(
        listen: ListenAddress,
        adminListen: ListenAddress? = nil,
        upstream: UpstreamConfig,
        server: ServerConfig = ServerConfig(),
        validation: ValidationConfig = ValidationConfig(),
        sites: [SiteConfig],
        operations: [String: OperationOverride] = [:],
        audit: AuditConfig = AuditConfig(),
        log: LogConfig = LogConfig(),
        rateLimit: RateLimitConfig = RateLimitConfig(),
        adminTokenSHA256: [UInt8]? = nil,
        shutdown: ShutdownConfig = ShutdownConfig()
    ) {
        self.listen = listen
        self.adminListen = adminListen
        self.upstream = upstream
        self.server = server
        self.validation = validation
        self.sites = sites
        self.operations = operations
        self.audit = audit
        self.log = log
        self.rateLimit = rateLimit
        self.adminTokenSHA256 = adminTokenSHA256
        self.shutdown = shutdown
    }
}

/// Where forwarded requests go: the real API, or the in-process emulator used for development and tests.
public enum UpstreamTarget: Sendable, Equatable {
    /// The embedded emulator (`upstream.url: sandbox`); nothing leaves the process.
    case sandbox
    /// An absolute `http://` or `https://` base URL with no query, fragment, credentials or trailing slash.
    case url(String)
}

/// How to reach the upstream API, and how long and how much to wait for it.
public struct UpstreamConfig: Sendable {
    /// The API base URL or the sandbox.
    public var target: UpstreamTarget
    /// Limit for establishing a connection, in milliseconds (> 0).
    public var connectTimeoutMs: Int
    /// Deadline for a whole request upstream, attempts and backoff included, in milliseconds
    /// (>= `connectTimeoutMs`); `operations.<id>.timeout_ms` overrides it per operation.
    public var timeoutMs: Int
    /// Responses larger than this are cut off and answered with an error, so upstream cannot exhaust memory.
    public var maxResponseBytes: Int
    /// Extra CA bundle for an upstream behind a private certificate authority.
    public var caFile: String?
    /// When failed calls are tried again.
    public var retries: RetryConfig = RetryConfig()
    /// When to stop calling an upstream that keeps failing.
    public var circuit: CircuitConfig = CircuitConfig()
    /// Upstream calls in flight at once in the whole process; more are answered 503 at once.
    public var maxInFlight: Int = 1024
    /// Which HTTP versions libcurl may speak to the upstream (`upstream.http_version`).
    public var httpVersion: UpstreamHTTPVersion = .standard

    /// Builds an upstream configuration; the defaults match the documented ones.
    public init(
        target: UpstreamTarget,
        connectTimeoutMs: Int = 2000,
        timeoutMs: Int = 10_000,
        maxResponseBytes: Int = 1_048_576,
        caFile: String? = nil
    ) {
        self.target = target
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
    }
}

/// Limits of the site-facing server: every one bounds what a misbehaving client can make the gateway hold.
public struct ServerConfig: Sendable, Equatable {
    /// Event loops to run; 0 means one per core.
    public var workers: Int = 0
    /// Connections accepted at once; more are refused rather than queued without bound.
    public var maxConnections: Int = 16_384
    /// Time allowed to receive the request line and headers.
    public var headerTimeoutMs: Int = 10_000
    /// Time allowed to receive the body once headers are in.
    public var bodyTimeoutMs: Int = 10_000
    /// Time a keep-alive connection may sit idle between requests.
    public var idleTimeoutMs: Int = 60_000
    /// Longest accepted request line.
    public var maxRequestLineBytes: Int = 8192
    /// Longest accepted single header line.
    public var maxHeaderLineBytes: Int = 8192
    /// Largest accepted header block in total.
    public var maxHeaderBytes: Int = 32_768
    /// Most header fields accepted in one request.
    public var maxHeaderCount: Int = 100
    /// Largest accepted request body.
    public var maxBodyBytes: Int = 1_048_576
    /// Most parts accepted in one multipart body.
    public var maxMultipartParts: Int = 64
    /// Largest accepted single multipart part.
    public var maxMultipartPartBytes: Int = 65_536
    /// Peers (proxies in front, such as the shipped nginx) whose `X-Forwarded-For` names the client in logs and
    /// audit records (`ClientAddress`); empty: the socket's peer is the client, and the header is ignored.
    public var trustedProxies: [IPNetwork] = []

    /// Builds the documented defaults; adjust fields afterwards.
    public init() {}
}

/// What validation does with request fields that the operation does not define (and with members of
/// utm.update's `data` that the reference does not document).
public enum UnknownFieldPolicy: String, Sendable, CaseIterable {
    /// Answer 422 (`unknown_field`) naming the field: the safe default, it surfaces typos in site code.
    case reject
    /// Forward the request without the field.
    case drop
}

/// Validation settings shared by all operations.
public struct ValidationConfig: Sendable, Equatable {
    /// Far more than any operation takes (at most 11 fields), yet small enough that a request with
    /// thousands of fields is refused before a single rule runs.
    public static let defaultMaxFields = 256

    /// See `UnknownFieldPolicy`.
    public var unknownFields: UnknownFieldPolicy
    /// The most fields (query and body together) one request may carry; more is a 413 `too-many-fields`.
    public var maxFields: Int

    /// Builds validation settings; rejecting unknown fields is the default.
    public init(unknownFields: UnknownFieldPolicy = .reject, maxFields: Int = ValidationConfig.defaultMaxFields) {
        self.unknownFields = unknownFields
        self.maxFields = maxFields
    }
}

/// Where the audit trail lives and how it is kept. See `AuditRecord` for what a record holds.
public struct AuditConfig: Sendable, Equatable {
    /// Path of the live JSON-lines audit file; rotated files sit next to it as `<path>.1`, `<path>.2`, …
    /// A path written in the config file is relative to the file's directory (the loader makes it absolute);
    /// the built-in default stays relative to the working directory.
    public var path: String
    /// Whether justgate writes the audit log at all.
    public var enabled: Bool
    /// The key records are signed with (HMAC-SHA-256); `nil` means a plain SHA-256 chain, which anyone who can
    /// write the file can recompute.
    public var hmacKey: SecretSource?
    /// The live file is rotated once it reaches this size.
    public var rotateBytes: Int
    /// Rotated files kept; older ones are deleted. 0 keeps them all.
    public var keepFiles: Int
    /// When written records are forced to disk.
    public var fsync: AuditFsyncPolicy
    /// With `true`, a request that cannot be audited is answered 503 instead of served.
    public var required: Bool

    /// Builds audit settings; the defaults match the documented ones.
    public init(path: String = "var/audit/audit.jsonl", enabled: Bool = true, hmacKey: SecretSource? = nil,
                rotateBytes: Int = 104_857_600, keepFiles: Int = 10, fsync: AuditFsyncPolicy = .interval,
                required: Bool = true) {
        self.path = path
        self.enabled = enabled
        self.hmacKey = hmacKey
        self.rotateBytes = rotateBytes
        self.keepFiles = keepFiles
        self.fsync = fsync
        self.required = required
    }
}

/// When audit records are forced to disk with fsync.
public enum AuditFsyncPolicy: String, Sendable, CaseIterable {
    /// Records are written every 10 ms and each batch is flushed to the disk: a crash or a power cut loses at
    /// most the last 10 ms of records, at the cost of a disk flush a hundred times a second.
    case always
    /// Records are written and flushed every 100 ms: a crash or a power cut loses at most the last 100 ms.
    case interval
    /// Records are written every 100 ms and flushed when the kernel chooses: a crash of justgate loses at most
    /// the last 100 ms, a power cut what the kernel had not yet written.
    case never

    /// How often the audit writer takes the event loops' records and writes them. The same as the flush
    /// interval: writing more often than flushing buys no durability, and each batch has a fixed cost (a
    /// wake-up, a `write(2)`, the kernel's work per call) that a tenth as many batches pay a tenth as often:
    /// 10 ms batches cost the writer 2.0 µs per record at 7,600 req/s, 100 ms batches 1.1–1.3 µs (measured before the
    /// writer also wrote the records' JSON, which adds about 0.2 µs to either).
    public var batchIntervalMs: Int {
        switch self {
        case .always: 10
        case .interval, .never: 100
        }
    }
}

/// Severity threshold for the gateway's own log; the names match swift-log's `Logger.Level`.
public enum LogLevel: String, Sendable, CaseIterable {
    /// Everything, including per-byte detail.
    case trace
    /// Diagnostics for development.
    case debug
    /// Normal operation.
    case info
    /// Noteworthy but normal events.
    case notice
    /// Something is off but requests still work.
    case warning
    /// A request or subsystem failed.
    case error
    /// The gateway cannot go on.
    case critical
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line, for log collectors.
    case json
    /// `time level logger: message key=value …`, for a terminal; the level is coloured when stderr is a TTY.
    case text
}

/// Which requests get a line in the log (the audit log records every request regardless).
public enum RequestLogPolicy: String, Sendable, CaseIterable {
    /// Every request.
    case all
    /// Requests answered with a status of 400 or more.
    case errors
    /// No request lines; the gateway's own events are still logged.
    case none
}

/// Logging settings.
public struct LogConfig: Sendable, Equatable {
    /// Messages below this level are dropped.
    public var level: LogLevel
    /// JSON lines or text.
    public var format: LogFormat
    /// Which requests are logged.
    public var requests: RequestLogPolicy
    /// The share of successful (below 400) request lines kept, 0 to 1: a busy gateway's log is mostly
    /// lines nobody reads. Problems, 4xx/5xx and refused requests are always logged, and the audit
    /// log is never sampled.
    public var sampleSuccess: Double

    /// Builds log settings; `info`, JSON, every request and every line are the defaults.
    public init(level: LogLevel = .info, format: LogFormat = .json, requests: RequestLogPolicy = .all,
                sampleSuccess: Double = 1) {
        self.level = level
        self.format = format
        self.requests = requests
        self.sampleSuccess = sampleSuccess
    }
}

/// How SIGTERM, SIGINT and the end of `serve` drain.
public struct ShutdownConfig: Sendable, Equatable {
    /// How long requests in flight may take to finish once a stop begins; then their connections close.
    public var graceMs: Int

    public init(graceMs: Int = 10_000) {
        self.graceMs = graceMs
    }
}
