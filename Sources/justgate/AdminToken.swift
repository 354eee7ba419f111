import ArgumentParser
import Foundation
import JustGateCore

/// The admin token a command sends to the admin listener (`justgate health`, `justgate outbox`, `justgate sites`),
/// read from `--token-file` in one place, so every command says the same thing about a missing, unreadable or
/// wrong file.
enum AdminToken {
    /// The token when the config demands one (`admin_token_sha256`), nil otherwise. It is checked against the hash
    /// here, so a wrong file is named as such rather than surfacing as the listener's 401.
    static func required(by config: GatewayConfig, configPath: String, tokenFile: String?, command: String) throws -> String? {
        guard let hash = config.adminTokenSHA256 else { return nil }
        guard let tokenFile else {
            ConfigFile.printError("""
                justgate \(command): \(configPath) sets admin_token_sha256, so the admin listener wants a token: \
                pass --token-file FILE (a file holding the admin token)
                """)
            throw ExitCode.failure
        }
        let token = try read(tokenFile, command: command)
        guard SiteKeys.sha256(token) == hash else {
            ConfigFile.printError("""
                justgate \(command): the token in \(tokenFile) does not match admin_token_sha256 of \(configPath); \
                check that both come from the same `justgate keygen`
                """)
            throw ExitCode.failure
        }
        return token
    }

    /// The token in `path`, without surrounding whitespace; an unreadable file is reported and ends the command.
    static func read(_ path: String, command: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            ConfigFile.printError("justgate \(command): cannot read the token file \(path) (\(error.localizedDescription))")
            throw ExitCode.failure
        }
    }
}
