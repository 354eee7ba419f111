#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import Logging

/// A running gateway: the site-facing server, its per-loop pipelines and upstream clients, and the
/// embedded sandbox when the config asks for one. `serve` and the integration tests both start
/// exactly this, so the tests exercise what operators run.
public final class GatewayRuntime: Sendable {
    public let address: SocketAddress
    public let sandbox: SandboxServer?
    public let contextStore: GatewayContextStore
    /// The audit log, when `audit.enabled`.
    public let audit: AuditTrail?
    private let server: HTTPServer

    /// - Parameters:
    ///   - logger: for the gateway's own events; its label and level also apply to request lines.
    ///   - requestLogSink: where request lines go; the same sink `logger`'s handler writes to.
    public init(config: GatewayConfig, sites: [ResolvedSite], logger: Logger,
                requestLogSink: LogSink = .standardError, auditKey: [UInt8]? = nil,
                wallClock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) throws {
        var sandbox: SandboxServer?
        let baseURL: String
        switch config.upstream.target {
        case .sandbox:
            guard let loopback = SocketAddress(host: "127.0.0.1", port: 0) else { throw GatewayStartError("cannot form a loopback address") }
            let started = try SandboxServer(listen: loopback, tokens: Set(sites.map { $0.upstreamToken.reveal() }))
            sandbox = started
            baseURL = started.baseURL
        case .url(let url):
            baseURL = url
        }
        guard let listen = SocketAddress(host: config.listen.host, port: config.listen.port) else {
            sandbox?.stop()
            throw GatewayStartError("listen address \(config.listen) is not a numeric IPv4 or IPv6 address")
        }
        let audit: AuditTrail?
        do {
            audit = try config.audit.enabled ? AuditTrail(
                writer: AuditWriter(config: config.audit, key: auditKey, logger: logger,
                                    inFlightAllowance: config.server.maxConnections),
                isRequired: config.audit.required) : nil
        } catch {
            sandbox?.stop()
            throw GatewayStartError("""
                cannot open the audit log: \(error); fix the path or its permissions (audit.path), or set \
                audit.enabled: false
                """)
        }
        let store = GatewayContextStore(GatewayContext(config: config, sites: sites, upstreamBaseURL: baseURL))
        let upstreamConfiguration = UpstreamClientConfiguration(
            connectTimeoutMs: config.upstream.connectTimeoutMs, timeoutMs: config.upstream.timeoutMs,
            maxResponseBytes: config.upstream.maxResponseBytes, caFile: config.upstream.caFile)
        let requestLogLabel = logger.label
        let requestLogThreshold = logger.logLevel
        let serverAnswers = ServerAnswerRecorder(sink: requestLogSink, label: requestLogLabel,
                                                 threshold: requestLogThreshold, audit: audit,
                                                 logPolicy: config.log.requests)
        let server = HTTPServer(
            configuration: ServerConfiguration(
                address: listen, workers: config.server.workers, maxConnections: config.server.maxConnections,
                headerTimeoutMs: config.server.headerTimeoutMs, bodyTimeoutMs: config.server.bodyTimeoutMs,
                idleTimeoutMs: config.server.idleTimeoutMs, limits: config.server.httpLimits,
                errorResponse: GatewayRuntime.serverError, onServerAnswer: serverAnswers.record),
            handlerFactory: { loop in
                let pipeline = RequestPipeline(contextStore: store, wallClock: wallClock)
                guard let upstream = try? UpstreamClient(loop: loop, configuration: upstreamConfiguration) else {
                    return UnavailableHandler()
                }
                let requestLog = RequestLog(sink: requestLogSink, label: requestLogLabel, threshold: requestLogThreshold)
                return GatewayHandler(pipeline: pipeline, upstream: upstream,
                                      outcomes: RequestOutcomes(log: requestLog, audit: audit,
                                                                logPolicy: config.log.requests))
            })
        do {
            self.address = try server.start()
        } catch {
            sandbox?.stop()
            audit?.writer.stop()
            throw error
        }
        self.server = server
        self.audit = audit
        self.sandbox = sandbox
        self.contextStore = store
    }

    /// Stops accepting, lets requests in flight finish, writes and syncs their audit records, then stops
    /// the sandbox.
    public func stop() {
        server.stop()
        audit?.writer.stop()
        sandbox?.stop()
    }

    public var connectionCount: Int { server.connectionCount }

    /// Problem responses for errors the server finds before the pipeline runs (malformed HTTP, timeouts).
    static let serverError: @Sendable (Int, String) -> HTTPResponse = { status, detail in
        var ids = RequestIDGenerator()
        return ProblemResponses.make(ProblemKind(status: status), status: status, detail: detail, requestID: ids.next())
    }
}

/// Start-up failures that are not socket errors, with a message that says what to fix.
public struct GatewayStartError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Answers 503 on a loop whose upstream client could not be created, instead of crashing the process.
private final class UnavailableHandler: HTTPHandler {
    func handle(_ request: ServerRequest, responder: Responder) {
        responder.respond(GatewayRuntime.serverError(503, "The upstream client could not be created on this worker."))
    }
}

extension ServerConfig {
    /// The HTTP parser limits this config sets.
    var httpLimits: HTTPLimits {
        HTTPLimits(maxRequestLineBytes: maxRequestLineBytes, maxHeaderLineBytes: maxHeaderLineBytes,
                   maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
    }
}
