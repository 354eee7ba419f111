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
            --skip-secrets) upstream tokens and the audit key whose env var or file is missing. Exits 0 \
            when the config is usable, 1 otherwise. Warnings (such as tokens written inline, or an audit \
            log without audit.hmac_key) do not fail the check.

            Example: justgate check-config --config config/justgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Do not resolve upstream tokens (for checking a config away from its secrets).")
    var skipSecrets = false

    func run() throws {
        guard let (config, warnings) = ConfigFile.load(options.config) else { throw ExitCode.failure }
        for warning in warnings { print("\(options.config):\(warning)") }
        if !skipSecrets, case .failure(let errors) = SecretResolver.resolve(config.sites, environment: ProcessSecretEnvironment()) {
            for problem in errors.problems { ConfigFile.printError("\(options.config):\(problem)") }
            throw ExitCode.failure
        }
        if !skipSecrets, case .failure(let errors) = AuditKeyResolver.resolve(config.audit.hmacKey, environment: ProcessSecretEnvironment()) {
            for problem in errors.problems { ConfigFile.printError("\(options.config):\(problem)") }
            throw ExitCode.failure
        }
        if config.audit.enabled && config.audit.hmacKey == nil {
            print("""
                \(options.config): note: audit.hmac_key is not set, so the audit chain is plain SHA-256: it shows \
                accidental damage, but anyone who can write the file can rewrite it undetected; set \
                audit.hmac_key: { env: NAME } or { file: PATH }
                """)
        }
        print("\(options.config): OK (\(config.sites.count) site\(config.sites.count == 1 ? "" : "s"), \(warnings.count) warning\(warnings.count == 1 ? "" : "s"))")
    }
}
