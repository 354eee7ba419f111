import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore
import Logging

/// `--config PATH`, shared by the commands that read a config.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML config file. Relative paths written in it (token and key files, upstream.ca_file, audit.path) are relative to its directory.")
    var config: String = "config/justgate.yaml"
}

/// Reading and checking a config file, with problems printed the way `check-config` shows them.
enum ConfigFile {
    /// Loads and checks the file; prints every problem and warning to stderr. Nil when there were errors.
    static func load(_ path: String) -> (config: GatewayConfig, warnings: [ConfigProblem])? {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("\(path): cannot read the config file (\(error.localizedDescription)); pass --config with the right path.")
            return nil
        }
        switch ConfigLoader.load(yaml: text, knownOperations: Catalogue().ids, fileName: path,
                                 baseDirectory: directory(of: path)) {
        case .success(let loaded):
            return loaded
        case .failure(let errors):
            for problem in errors.problems { printError(problem.located(in: path)) }
            return nil
        }
    }

    /// Reads the file and resolves every secret again, for a reload: problems come back as one
    /// message instead of being printed, since the gateway goes on serving and logs them.
    /// The config file's directory is taken once, when serve starts, so a reload reads paths the same way.
    /// `vault`: the running gateway's Vault source; its secrets are read again at once (the last good values
    /// when Vault is down), so a reload also picks up a token rotated in Vault.
    static func source(_ path: String, vault: VaultSecretSource?) -> ConfigSource {
        let baseDirectory = directory(of: path)
        return {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                return .failure(ReloadFailure("\(path): cannot read the config file (\(error.localizedDescription))"))
            }
            let config: GatewayConfig
            switch ConfigLoader.load(yaml: text, knownOperations: Catalogue().ids, fileName: path,
                                     baseDirectory: baseDirectory) {
            case .success(let loaded): config = loaded.config
            case .failure(let errors): return .failure(ReloadFailure(errors.problems.map(\.description).joined(separator: "; ")))
            }
            let reads = vault?.refresh(config.sites.vaultReferences) ?? [:]
            switch SecretResolver.resolve(config.sites, environment: ProcessSecretEnvironment(), vault: reads) {
            case .success(let sites): return .success((config: config, sites: sites))
            case .failure(let errors): return .failure(ReloadFailure(errors.problems.map(\.description).joined(separator: "; ")))
            }
        }
    }

    /// The absolute directory of the config file at `path`, which relative paths in it are joined to: the
    /// working directory is read here, at the edge, so the loader stays free of the filesystem. `..` and
    /// symbolic links are kept as written (the directory the operator named, not where a link points).
    static func directory(of path: String) -> String {
        let absolute = ConfigRelativePaths.join(path, to: FileManager.default.currentDirectoryPath)
        guard let slash = absolute.lastIndex(of: "/") else { return FileManager.default.currentDirectoryPath }
        return slash == absolute.startIndex ? "/" : String(absolute[..<slash])
    }

    /// Reads every Vault secret the config names once, for commands that do not serve (`check-config`, `sites`):
    /// the values, or nil without `secrets.vault`; a client that cannot be made is reported for every secret.
    static func readVault(_ config: GatewayConfig) -> VaultReads {
        guard let vaultConfig = config.vault else { return [:] }
        let references = config.sites.vaultReferences
        do {
            let source = try VaultSecretSource(config: vaultConfig, logger: Logger(label: "justgate", factory: { _ in SwiftLogNoOpLogHandler() }))
            return source.readNow(references)
        } catch {
            return Dictionary(uniqueKeysWithValues: references.map { ($0, .failure(error)) })
        }
    }

    /// Prints one line to stderr with its control characters escaped (`TerminalSafeText`): messages quote config
    /// text and audit records, which must not drive the terminal or forge a second line.
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((TerminalSafeText.escaped(line) + "\n").utf8))
    }
}
