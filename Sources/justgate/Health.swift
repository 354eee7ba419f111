import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore

/// `justgate health`: asks a running gateway, through its admin listener, whether it is ready for traffic
/// (`/readyz`) or alive (`/healthz`), and exits 0 or 1. It exists for the container image's `HEALTHCHECK`
/// and compose's `healthcheck:` (the runtime image has no curl) and for scripts on a systemd host.
struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the running gateway whether it is ready (exit 0) or not (exit 1).",
        discussion: """
            Reads admin_listen (and admin_token_sha256) from the config, sends GET /readyz to that address \
            (127.0.0.1 when it listens on 0.0.0.0, ::1 for ::) and exits 0 on 200, 1 on anything else: \
            503 (the reasons are printed), a refused or timed-out connection, or a config without \
            admin_listen. --live asks /healthz instead (is the process answering at all). When the config \
            sets admin_token_sha256, pass the token in a file with --token-file; it is checked against the \
            hash before it is sent.

            Examples:
              justgate health --config /etc/justgate/justgate.yaml
              justgate health --config /etc/justgate/justgate.yaml --token-file /run/secrets/admin-token
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Ask /healthz (the process answers) instead of /readyz (it wants traffic).")
    var live = false

    @Option(help: "File holding the admin token; read only when the config sets admin_token_sha256.")
    var tokenFile: String?

    @Option(help: "Give up after this many milliseconds.")
    var timeoutMs: Int = 2000

    func run() throws {
        guard let (config, _) = ConfigFile.load(options.config) else { throw ExitCode.failure }
        guard let admin = config.adminListen else {
            ConfigFile.printError("""
                justgate health: \(options.config) has no admin_listen, so there is nothing to ask; add \
                admin_listen: 127.0.0.1:9090 and restart the gateway
                """)
            throw ExitCode.failure
        }
        let token = try AdminToken.required(by: config, configPath: options.config, tokenFile: tokenFile, command: "health")
        let path = live ? "/healthz" : "/readyz"
        let request = AdminRequest(address: admin, path: path, token: token, timeoutMs: max(1, timeoutMs))
        switch request.send() {
        case .failure(let failure):
            ConfigFile.printError("justgate health: \(failure)")
            throw ExitCode.failure
        case .success(let answer) where answer.status == 200:
            print("justgate health: \(path) on \(admin): \(answer.body.trimmingCharacters(in: .whitespacesAndNewlines))")
        case .success(let answer):
            let reason = answer.status == 401
                ? "the admin listener refused the token (401); pass --token-file with the admin token"
                : answer.body.trimmingCharacters(in: .whitespacesAndNewlines)
            ConfigFile.printError("justgate health: \(path) on \(admin) answered \(answer.status): \(reason)")
            throw ExitCode.failure
        }
    }
}
