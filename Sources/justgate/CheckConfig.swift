import ArgumentParser
import JustGateApp
import JustGateCore

/// `justgate check-config`: every problem of a config, with key paths and lines, before a deploy.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file and list every problem in it.",
        discussion: """
            Reports unknown keys, wrong types and values, duplicate sites and keys, and (unless \
            --skip-secrets) upstream tokens and the audit key whose env var or file is missing, and an \
            upstream.ca_file that is missing, unreadable or holds no PEM certificate. Exits 0 when the config \
            is usable, 1 otherwise. Warnings (such as tokens written inline, a token or audit key file that \
            its group or other users may read, or an audit log without audit.hmac_key) do not fail the check. A usable config's rate limits are then \
            printed in words, one policy a line, and its upstream deadline, retries, circuit breaker and \
            in-flight limit in one line.

            Example: justgate check-config --config config/justgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Do not resolve upstream tokens and the audit key, nor check their modes and upstream.ca_file (for checking a config away from its secrets and files).")
    var skipSecrets = false

    func run() throws {
        guard let (config, warnings) = ConfigFile.load(options.config) else { throw ExitCode.failure }
        for warning in warnings { print(TerminalSafeText.escaped("\(options.config):\(warning)")) }
        if !skipSecrets, case .failure(let errors) = SecretResolver.resolve(config.sites, environment: ProcessSecretEnvironment()) {
            for problem in errors.problems { ConfigFile.printError("\(options.config):\(problem)") }
            throw ExitCode.failure
        }
        if !skipSecrets, case .failure(let errors) = AuditKeyResolver.resolve(config.audit.hmacKey, environment: ProcessSecretEnvironment()) {
            for problem in errors.problems { ConfigFile.printError("\(options.config):\(problem)") }
            throw ExitCode.failure
        }
        if !skipSecrets, case .failure(let errors) = AuditKeyResolver.resolve(
            config.rateLimit.keySecret, environment: ProcessSecretEnvironment(), path: "rate_limit.key_secret") {
            for problem in errors.problems { ConfigFile.printError("\(options.config):\(problem)") }
            throw ExitCode.failure
        }
        if !skipSecrets, let problem = UpstreamCAFile.problem(config) {
            ConfigFile.printError("\(options.config):\(problem)")
            throw ExitCode.failure
        }
        let fileWarnings = skipSecrets ? [] : SecretFilePermissions.warnings(for: config, environment: ProcessSecretEnvironment())
        for warning in fileWarnings { print(TerminalSafeText.escaped("\(options.config):\(warning)")) }
        if config.audit.enabled && config.audit.hmacKey == nil {
            print("""
                \(options.config): note: audit.hmac_key is not set, so the audit chain is plain SHA-256: it shows \
                accidental damage, but anyone who can write the file can rewrite it undetected; set \
                audit.hmac_key: { env: NAME } or { file: PATH }
                """)
        }
        print("\(options.config): OK (\(config.sites.count) site\(config.sites.count == 1 ? "" : "s"), \(warnings.count + fileWarnings.count) warning\(warnings.count + fileWarnings.count == 1 ? "" : "s"))")
        for line in CheckConfig.limitLines(config) { print(TerminalSafeText.escaped(line)) }
        print(TerminalSafeText.escaped(CheckConfig.upstreamLine(config)))
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
