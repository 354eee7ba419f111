import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore
import JustGateAuditReview

/// `justgate check-config`: every problem of a config, with key paths and lines, before a deploy.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file and list every problem in it.",
        discussion: """
            Reports unknown keys, wrong types and values, duplicate sites and keys, and (unless \
            --skip-secrets) upstream tokens and the audit key whose env var or file is missing, tokens and site \
            key lists in Vault \
            whose path or field is missing or that the gateway's policy may not read (403; every path is read, \
            no value is printed; with --skip-secrets Vault is not contacted), and an \
            upstream.ca_file that is missing, unreadable or holds no PEM certificate. Exits 0 when the config \
            is usable, 1 otherwise. Warnings (such as tokens written inline, a token or audit key file that \
            its group or other users may read, or an audit log without audit.hmac_key) do not fail the check. A usable config's rate limits are then \
            printed in words, one policy a line, and its upstream deadline, retries, circuit breaker and \
            in-flight limit in one line, and where each relative path lands: a path written in the config is \
            relative to the config file's directory; the built-in default audit.path (var/audit/audit.jsonl) to \
            the working directory serve starts in. Every problem of every section is listed in one run, each as \
            FILE:LINE: (the form editors jump to); a site listener on a non-loopback address (0.0.0.0, ::) is \
            warned about as serve does, and a placeholder hash (000…0, 111…1) is an error: run justgate keygen.

            Example: justgate check-config --config config/justgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Do not resolve upstream tokens (nor contact Vault) and the audit key, nor check their modes and upstream.ca_file (for checking a config away from its secrets and files).")
    var skipSecrets = false

    func run() throws {
        let file = options.config
        guard let (config, warnings) = ConfigFile.load(file) else { throw ExitCode.failure }
        let lines = ConfigKeyLines(yaml: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
        var listenWarnings: [ConfigProblem] = []
        if let exposure = config.listen.exposureWarning {
            listenWarnings.append(ConfigProblem(path: "listen", line: lines.line(of: "listen"), message: exposure,
                                                isWarning: true))
        }
        // Every section's problems at once: an audit-key error must not wait until the token errors are fixed.
        let errors = skipSecrets ? [] : CheckConfig.secretProblems(config)
        let fileWarnings = skipSecrets ? [] : SecretFilePermissions.warnings(for: config, environment: ProcessSecretEnvironment())
        for warning in warnings + listenWarnings + fileWarnings {
            print(TerminalSafeText.escaped(lines.locate(warning).located(in: file)))
        }
        for problem in errors { ConfigFile.printError(lines.locate(problem).located(in: file)) }
        guard errors.isEmpty else {
            ConfigFile.printError("\(file): \(errors.count) problem\(errors.count == 1 ? "" : "s") above; fix them and run check-config again")
            throw ExitCode.failure
        }
        if config.audit.enabled && config.audit.hmacKey == nil {
            print("""
                \(file): note: audit.hmac_key is not set, so the audit chain is plain SHA-256: it shows \
                accidental damage, but anyone who can write the file can rewrite it undetected; set \
                audit.hmac_key: { env: NAME } or { file: PATH }
                """)
        }
        let warningCount = warnings.count + listenWarnings.count + fileWarnings.count
        print("\(file): OK (\(config.sites.count) site\(config.sites.count == 1 ? "" : "s"), \(warningCount) warning\(warningCount == 1 ? "" : "s"))")
        for line in CheckConfig.relativePathLines(config) { print(TerminalSafeText.escaped(line)) }
        for line in CheckConfig.limitLines(config) { print(TerminalSafeText.escaped(line)) }
        print(TerminalSafeText.escaped(CheckConfig.upstreamLine(config)))
        print(TerminalSafeText.escaped(CheckConfig.idempotencyLine(config.idempotency, keyed: config.rateLimit.keySecret != nil)))
    }

    /// Where `Idempotency-Key`s live, in words: per process or shared, and what a Redis outage does.
    static func idempotencyLine(_ config: IdempotencyConfig, keyed: Bool) -> String {
        switch config.backend {
        case .memory:
            return "Idempotency-Key (profile.create): kept \(config.ttlSeconds) s in memory, per gateway process "
                + "(at most \(config.maxKeys) keys); a retry that reaches another gateway is not recognised"
        case .redis:
            let shown = config.redisURL.flatMap { try? RedisEndpoint.parse($0).get() }.map(\.description) ?? "?"
            return "Idempotency-Key (profile.create): kept \(config.ttlSeconds) s in Redis at \(shown), shared by every "
                + "gateway on it (timeout \(config.redisTimeoutMs) ms; keys are "
                + (keyed ? "HMAC-SHA-256 under rate_limit.key_secret" : "SHA-256 digests")
                + "; while Redis is down such requests get 503)"
        }
    }

    /// What stops the config from serving once it loads: upstream tokens, the audit key and the rate-limit key
    /// secret that cannot be read, and an unusable upstream.ca_file, all of them.
    static func secretProblems(_ config: GatewayConfig) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        // Every Vault path is read (never printed): a missing path, field or a 403 is named like a missing file.
        let reads = ConfigFile.readVault(config)
        if case .failure(let errors) = SecretResolver.resolve(config.sites, environment: ProcessSecretEnvironment(), vault: reads) {
            problems += errors.problems
        }
        if case .failure(let errors) = AuditKeyResolver.resolve(config.audit.hmacKey, environment: ProcessSecretEnvironment()) {
            problems += errors.problems
        }
        if case .failure(let errors) = AuditKeyResolver.resolve(
            config.rateLimit.keySecret, environment: ProcessSecretEnvironment(), path: "rate_limit.key_secret") {
            problems += errors.problems
        }
        if let problem = UpstreamCAFile.problem(config) { problems.append(problem) }
        return problems
    }

    /// Where each relative path lands: those the file wrote are joined to the config file's directory by the
    /// loader; the built-in default audit.path stays relative to the working directory serve starts in. Shown so
    /// an operator sees where the audit log and secret files will really be.
    static func relativePathLines(_ config: GatewayConfig) -> [String] {
        var lines = config.relativePaths.map { path in
            "\(path.key) \(path.written) resolves to \(path.resolved) (relative to the config file's directory)"
        }
        if config.audit.enabled && ConfigRelativePaths.isRelative(config.audit.path) {
            let here = ConfigRelativePaths.join(config.audit.path, to: FileManager.default.currentDirectoryPath)
            lines.append("audit.path \(config.audit.path) resolves to \(here) (the built-in default, relative to the "
                + "working directory serve starts in)")
        }
        return lines
    }

    /// The upstream deadline, retries, circuit breaker and in-flight limit in words.
    static func upstreamLine(_ config: GatewayConfig) -> String {
        let upstream = config.upstream
        let overrides = config.operations.compactMap { id, override in override.timeoutMs.map { "\(id): \($0) ms" } }.sorted()
        let deadline = "deadline \(upstream.timeoutMs) ms per request" + (overrides.isEmpty ? "" : " (\(overrides.joined(separator: ", ")))")
        let retries = upstream.retries.maxAttempts == 1
            ? "no retries"
            : "up to \(upstream.retries.maxAttempts) attempts (reads on failures and 502/503/504, writes only when never sent; "
                + "at most \(upstream.retries.budgetPercent) % of calls)"
        return "upstream: \(deadline); \(retries); circuit opens after \(upstream.circuit.failures) failed attempts for "
            + "\(upstream.circuit.openMs) ms; at most \(upstream.maxInFlight) calls in flight"
    }

    /// Each site's rate-limit policies in words, and where the counts are kept.
    static func limitLines(_ config: GatewayConfig) -> [String] {
        var lines: [String] = []
        for site in config.sites {
            if site.limits.isEmpty {
                lines.append("site \(site.id): no rate limits")
            }
            for policy in site.limits {
                lines.append("site \(site.id): \(policy.sentence)")
            }
        }
        let backend = config.rateLimit
        switch backend.backend {
        case .memory:
            lines.append("rate limits are counted in memory (per gateway process, at most \(backend.maxKeys) keys)")
        case .redis:
            let shown = backend.redisURL.flatMap { try? RedisEndpoint.parse($0).get() }.map(\.description) ?? "?"
            lines.append("rate limits are counted in Redis at \(shown) (timeout \(backend.redisTimeoutMs) ms; "
                + "when it fails: \(backend.onBackendError.rawValue))")
        }
        return lines
    }
}
