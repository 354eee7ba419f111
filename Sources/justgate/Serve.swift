import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore
import JustGateAuditReview
import Logging

/// `justgate serve`: runs the gateway until SIGINT or SIGTERM, then drains and exits.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway.",
        discussion: """
            Loads the config, resolves every site's upstream token (from env vars, files or Vault; with Vault \
            unreachable at start-up it exits 2 and says so; once running, tokens in Vault are read again every \
            secrets.vault.refresh_s and a changed one is used by the next request; so are site keys kept in Vault, \
            keys: { vault: PATH }), checks \
            upstream.ca_file (exit 2 when it is missing or holds no certificate), warns about token and audit \
            key files (and Vault credential files) that other users may read, and serves \
            sites on `listen`. With `upstream.url: sandbox` an emulated Just Services API runs in the same \
            process. SIGHUP (or POST /reload on admin_listen) reads the config and secrets again and swaps \
            them in if they are valid; otherwise the old config stays. SIGINT or SIGTERM stops accepting, \
            lets requests in flight finish within shutdown.grace_ms, and exits 0; a second signal exits at once.

            Start-up fails (exit 1, naming the address) when another process already listens on `listen`: \
            the listeners use SO_REUSEPORT, and a second gateway would silently take a share of the \
            connections. For a deliberate hand-over, start the new process with --replace, then stop the old one.
            With --replace the new process also waits for the old one's audit log: it queues its records until \
            the old process stops and lets go of the log, then continues the same chain. Without it, a second \
            gateway on the same audit.path fails to start (two writers would interleave two chains). The same \
            holds for the outbox (outbox.path): the old process lets go of it as its stop begins, and the new one \
            opens it then (waiting at most 2 minutes); meanwhile a call that would be deferred waits up to 2 s \
            for it, then gets 503.

            With upstream.url: sandbox, --sandbox-unavailable-for SECONDS makes the embedded sandbox answer \
            every call 503 for that long, beginning --sandbox-unavailable-after SECONDS after start: an outage \
            to watch a deferred call being delivered (make run SERVE_ARGS="...").

            Example: justgate serve --config config/justgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Share the listen address with a process already listening on it, and take its audit log and outbox over when it stops (for a hand-over without downtime).")
    var replace = false

    @Option(help: ArgumentHelp("With upstream.url: sandbox: the embedded sandbox answers every call 503 \"Error service\" "
                                   + "for this many seconds, then serves as usual (an outage to watch calls deferred and "
                                   + "delivered; justgate sandbox --unavailable-for).", valueName: "SECONDS"))
    var sandboxUnavailableFor: Int = 0

    @Option(help: ArgumentHelp("Begin the --sandbox-unavailable-for outage this many seconds after start (default: at start).",
                               valueName: "SECONDS"))
    var sandboxUnavailableAfter: Int = 0

    func validate() throws {
        guard (0...86_400).contains(sandboxUnavailableFor), (0...86_400).contains(sandboxUnavailableAfter) else {
            throw ValidationError("--sandbox-unavailable-for and --sandbox-unavailable-after take seconds from 0 to 86400")
        }
        guard sandboxUnavailableAfter == 0 || sandboxUnavailableFor > 0 else {
            throw ValidationError("--sandbox-unavailable-after needs --sandbox-unavailable-for SECONDS (how long the outage lasts)")
        }
    }

    /// The embedded sandbox's outage, if one was asked for.
    private var sandboxOutage: SandboxOutage? {
        sandboxUnavailableFor > 0 ? SandboxOutage(afterMs: sandboxUnavailableAfter * 1000, forMs: sandboxUnavailableFor * 1000) : nil
    }

    func run() throws {
        guard let (config, warnings) = ConfigFile.load(options.config) else { throw ExitCode(2) }
        for warning in warnings { ConfigFile.printError(warning.located(in: options.config)) }
        if sandboxOutage != nil, config.upstream.target != .sandbox {
            ConfigFile.printError("""
                --sandbox-unavailable-for works only with the embedded sandbox (upstream.url: sandbox in \(options.config)); \
                for another upstream run justgate sandbox --unavailable-for and point upstream.url at it
                """)
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: config.log.level.rawValue) ?? .info
        let sink = config.log.format == .text ? LogSink(fd: 2, text: TextLogLine(colour: isatty(2) == 1)) : LogSink.standardError
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level, sink: sink) }
        let logger = Logger(label: "justgate")
        // Tokens in Vault are read before anything listens: with Vault unreachable no token was ever read, so
        // the gateway does not start (it says why); once running, an outage keeps the last values.
        var vault: VaultSecretSource?
        var vaultReads: VaultReads = [:]
        if let vaultConfig = config.vault {
            do {
                let source = try VaultSecretSource(config: vaultConfig, logger: logger)
                vaultReads = source.readNow(config.sites.vaultReferences)
                vault = source
            } catch {
                ConfigFile.printError("\(options.config): secrets.vault: \(error.message)")
                throw ExitCode(2)
            }
        }
        let sites: [ResolvedSite]
        switch SecretResolver.resolve(config.sites, environment: ProcessSecretEnvironment(), vault: vaultReads) {
        case .success(let resolved):
            sites = resolved
        case .failure(let errors):
            for problem in errors.problems { ConfigFile.printError(problem.located(in: options.config)) }
            throw ExitCode(2)
        }
        let auditKey: [UInt8]?
        switch AuditKeyResolver.resolve(config.audit.hmacKey, environment: ProcessSecretEnvironment()) {
        case .success(let key):
            auditKey = key
        case .failure(let errors):
            for problem in errors.problems { ConfigFile.printError(problem.located(in: options.config)) }
            throw ExitCode(2)
        }
        let rateLimitKeySecret: [UInt8]?
        switch AuditKeyResolver.resolve(config.rateLimit.keySecret, environment: ProcessSecretEnvironment(),
                                        path: "rate_limit.key_secret") {
        case .success(let secret):
            rateLimitKeySecret = secret
        case .failure(let errors):
            for problem in errors.problems { ConfigFile.printError(problem.located(in: options.config)) }
            throw ExitCode(2)
        }
        if let problem = UpstreamCAFile.problem(config) {
            ConfigFile.printError(problem.located(in: options.config))
            throw ExitCode(2)
        }
        for warning in SecretFilePermissions.warnings(for: config, environment: ProcessSecretEnvironment()) {
            ConfigFile.printError(warning.located(in: options.config))
        }
        if let exposure = config.listen.exposureWarning {
            logger.warning("\(exposure)", metadata: ["listen": .string(config.listen.description)])
        }
        let descriptors = FileDescriptorLimit.raiseToHardLimit()
        if descriptors < config.server.maxConnections + 64 {
            logger.warning("the open-files limit is below server.max_connections; connections beyond it will be refused",
                           metadata: ["open_files_limit": .stringConvertible(descriptors),
                                      "max_connections": .stringConvertible(config.server.maxConnections)])
        }
        let signals = ShutdownSignals.block()
        let runtime: GatewayRuntime
        do {
            runtime = try GatewayRuntime(config: config, sites: sites, logger: logger, vault: vault, requestLogSink: sink,
                                         replaceListeners: replace, auditKey: auditKey,
                                         rateLimitKeySecret: rateLimitKeySecret,
                                         configSource: ConfigFile.source(options.config, vault: vault),
                                         sandboxOutage: sandboxOutage)
        } catch {
            logger.critical("could not start", metadata: ["error": .string("\(error)")])
            sink.flush()
            throw ExitCode(1)
        }
        var started: Logger.Metadata = [
            "listen": .string(runtime.address.description),
            "sites": .stringConvertible(sites.count),
            "version": .string(JustGateVersion.current),
        ]
        if let sandbox = runtime.sandbox { started["sandbox_upstream"] = .string(sandbox.baseURL) }
        if let admin = runtime.adminAddress { started["admin_listen"] = .string(admin.description) }
        if let audit = runtime.audit {
            started["audit_path"] = .string(audit.writer.path)
            for notice in audit.writer.startupNotices { logger.notice("audit: \(notice)") }
        }
        logger.info("justgate started", metadata: started)
        // After the start-up line, whose `listen` (the bound port) is the one scripts read first.
        logger.info("effective config", metadata: ["config": Serve.metadata(EffectiveConfig.json(config))])
        sink.flush()
        var signal = signals.wait()
        while signal == SIGHUP {
            runtime.reload(by: .signal)
            sink.flush()
            signal = signals.wait()
        }
        logger.info("stopping: draining requests in flight", metadata: [
            "signal": .stringConvertible(signal), "grace_ms": .stringConvertible(config.shutdown.graceMs),
        ])
        sink.flush()
        signals.exitOnSecondSignal()
        runtime.stop()
        logger.info("stopped")
        sink.flush()
    }

    /// A JSON value as log metadata, so the effective config is one nested object in the JSON line.
    static func metadata(_ value: JSONValue) -> Logger.Metadata.Value {
        switch value {
        case .null: .string("null")
        case .bool(let flag): .stringConvertible(flag)
        case .number(let literal): Int(literal).map { .stringConvertible($0) } ?? .string(literal)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(metadata))
        case .object(let members): .dictionary(Dictionary(members.map { ($0.key, metadata($0.value)) }) { first, _ in first })
        }
    }
}
