import Yams

/// Turns the YAML config file into a `GatewayConfig`, or into the complete list of what is wrong with it.
///
/// The loader is strict on purpose: unknown keys, values of the wrong type and out-of-range numbers are errors,
/// because a gateway that silently ignores `max_body_byte: 1024` is running with limits nobody chose. It reads
/// Yams' node tree rather than decoding with `Codable`, so every problem carries its key path and line, and it
/// keeps going after a problem so one run reports them all.
public enum ConfigLoader {
    /// Keys allowed at the top level of the file.
    static let topLevelKeys = [
        "listen", "admin_listen", "upstream", "server", "validation", "sites", "operations", "audit", "log",
        "rate_limit", "admin_token_sha256", "shutdown", "idempotency", "secrets", "outbox",
    ]

    /// Parses and checks everything, collecting all problems, not just the first.
    ///
    /// - Parameters:
    ///   - yaml: The file's contents.
    ///   - knownOperations: Operation ids from the catalogue; `operations:` may only name these.
    ///   - fileName: Put in front of every problem's description, e.g. `config/justgate.yaml`.
    ///   - baseDirectory: The config file's directory, best absolute: every relative path the file writes is
    ///     joined to it (`ConfigRelativePaths`). Nil for YAML from no file, whose paths stay as written
    ///     (relative to the working directory).
    /// - Returns: The config with its warnings (such as an inline token), or every problem, errors and warnings,
    ///   sorted by line.
    public static func load(
        yaml: String,
        knownOperations: Set<String>,
        fileName: String = "config",
        baseDirectory: String? = nil
    ) -> Result<(config: GatewayConfig, warnings: [ConfigProblem]), ConfigErrors> {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            return .failure(ConfigErrors(problems: [ConfigYAMLError.problem(for: error, in: yaml, file: fileName)]))
        }
        var reader = ConfigNodeReader(file: fileName)
        guard let root else {
            reader.error("the config is empty; it needs at least listen, upstream and sites", at: "", line: nil)
            return .failure(ConfigErrors(problems: reader.problems))
        }
        let config = decode(root, knownOperations: knownOperations, reader: &reader)
        let problems = sortedByLine(reader.problems)
        let hasErrors = problems.contains { !$0.isWarning }
        guard !hasErrors, var config else {
            if !hasErrors {
                reader.error("the config could not be read; please report this as a bug", at: "", node: root)
                return .failure(ConfigErrors(problems: reader.problems))
            }
            return .failure(ConfigErrors(problems: problems))
        }
        if let baseDirectory {
            let auditPathWritten = root.mapping?["audit"]?.mapping?["path"] != nil
            let outboxPathWritten = root.mapping?["outbox"]?.mapping?["path"] != nil
            ConfigRelativePaths.resolve(&config, auditPathWritten: auditPathWritten, outboxPathWritten: outboxPathWritten,
                                        against: baseDirectory)
        }
        return .success((config: config, warnings: problems))
    }

    /// Reads every section, so problems in all of them are reported, then assembles the config if all are valid.
    private static func decode(
        _ root: Node, knownOperations: Set<String>, reader: inout ConfigNodeReader
    ) -> GatewayConfig? {
        guard let top = reader.mapping(root, at: "", knownKeys: topLevelKeys) else { return nil }
        let listen = reader.required(top, "listen").flatMap { listenAddress($0, at: "listen", reader: &reader) }
        // A wrong admin_listen is reported, so the config is not built and nil here cannot be mistaken for "off".
        let adminListen = top.value("admin_listen").flatMap {
            listenAddress($0, at: "admin_listen", reader: &reader)
        }
        let upstream = reader.required(top, "upstream").flatMap { upstreamConfig($0, reader: &reader) }
        let server = serverConfig(top.value("server"), reader: &reader)
        let validation = validationConfig(top.value("validation"), reader: &reader)
        let sites = reader.required(top, "sites", hint: "; list at least one site").flatMap {
            siteConfigs($0, knownOperations: knownOperations, reader: &reader)
        }
        let operations = operationOverrides(top.value("operations"), known: knownOperations, reader: &reader)
        let audit = auditConfig(top.value("audit"), reader: &reader)
        let log = logConfig(top.value("log"), reader: &reader)
        let rateLimit = rateLimitConfig(top.value("rate_limit"), reader: &reader)
        let adminToken = adminTokenHash(top.value("admin_token_sha256"), reader: &reader)
        let shutdown = shutdownConfig(top.value("shutdown"), reader: &reader)
        let idempotency = idempotencyConfig(top.value("idempotency"), reader: &reader)
        let vault = vaultConfig(top.value("secrets"), reader: &reader)
        let outbox = outboxConfig(top.value("outbox"), reader: &reader)
        if let sites, case .some(let vault) = vault {
            checkVaultSources(sites, vault: vault, sitesNode: top.value("sites"), reader: &reader)
        }

        if let listen, let admin = adminListen {
            checkAdminListen(admin, against: listen, node: top.value("admin_listen"), reader: &reader)
        }
        if let admin = adminListen, case .some(let token) = adminToken {
            checkAdminExposure(admin, tokenHash: token, node: top.value("admin_listen"), reader: &reader)
        }
        if let outbox, let upstream, let operations {
            checkOutboxLease(outbox, upstream: upstream, operations: operations, node: top.value("outbox"), reader: &reader)
        }
        if let rateLimit, let sites {
            warnAboutUnkeyedPerUserRedisKeys(rateLimit, sites: sites, node: top.value("rate_limit"), reader: &reader)
        }
        guard let listen, let upstream, let server, let validation, let sites, let operations, let audit, let log,
              let rateLimit, let adminToken, let shutdown, let idempotency, case .some(let vault) = vault,
              let outbox
        else { return nil }
        var config = GatewayConfig(
            listen: listen, adminListen: adminListen, upstream: upstream, server: server,
            validation: validation, sites: sites, operations: operations, audit: audit, log: log,
            rateLimit: rateLimit, adminTokenSHA256: adminToken, shutdown: shutdown)
        config.idempotency = idempotency
        config.vault = vault
        config.outbox = outbox
        return config
    }

    /// Problems in file order; those without a line (whole-file ones) last, ties kept in the order found.
    private static func sortedByLine(_ problems: [ConfigProblem]) -> [ConfigProblem] {
        problems.enumerated()
            .sorted { ($0.element.line ?? Int.max, $0.offset) < ($1.element.line ?? Int.max, $1.offset) }
            .map(\.element)
    }
}
