import ArgumentParser
import Foundation
import JustGateCore

/// `justgate outbox`: the operator's view of the deferred calls (issue 25 item 8), asked of the running gateway
/// through its admin listener (`GET /outbox`, `GET /outbox/<id>`, `POST /outbox/<id>/retry`,
/// `POST /outbox/retry`, `DELETE /outbox/<id>`), like `justgate health` asks `/readyz`: the outbox's state lives in the gateway
/// (its queue in memory, its files held open), so the command never reads the files itself.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List, show, retry or drop the running gateway's deferred calls.",
        discussion: """
            Asks the gateway at the config's admin_listen (127.0.0.1 when it listens on 0.0.0.0). When the config \
            sets admin_token_sha256, pass the admin token in a file with --token-file. Entries are shown without \
            their bodies (they hold users' addresses and phones); `show` prints the entry's JSON as the admin \
            endpoint gives it, upstream_body included (redacted like every relayed answer). With \
            outbox.backend: redis every gateway on that Redis shows and changes the calls of all of them. Each retry \
            and drop is an audit event (event delivery, outcome retried or dropped, reason operator).

            Examples:
              justgate outbox list --config /etc/justgate/justgate.yaml
              justgate outbox list --state dead --config /etc/justgate/justgate.yaml --token-file /run/secrets/admin-token
              justgate outbox show 3f2a9c0e5b7d41f8a6c2e9d0b1f4a7c3 --config /etc/justgate/justgate.yaml
              justgate outbox list --state dead --site horoscope-daily --config /etc/justgate/justgate.yaml
              justgate outbox retry 3f2a9c0e5b7d41f8a6c2e9d0b1f4a7c3 --config /etc/justgate/justgate.yaml
              justgate outbox retry --all-dead --site horoscope-daily --config /etc/justgate/justgate.yaml
              justgate outbox drop 3f2a9c0e5b7d41f8a6c2e9d0b1f4a7c3 --config /etc/justgate/justgate.yaml
            """,
        subcommands: [List.self, Show.self, Retry.self, Drop.self])

    /// What every subcommand takes: the config (for admin_listen) and the admin token's file.
    struct Access: ParsableArguments {
        @OptionGroup var options: ConfigOptions

        @Option(help: "File holding the admin token; read only when the config sets admin_token_sha256.")
        var tokenFile: String?

        /// Sends `method path` to the admin listener; prints a failure and exits 1 unless the status is 200.
        func ask(_ command: String, _ method: String, _ path: String, timeoutMs: Int = 5000) throws -> String {
            guard let (config, _) = ConfigFile.load(options.config) else { throw ExitCode.failure }
            guard let admin = config.adminListen else {
                ConfigFile.printError("""
                    justgate outbox \(command): \(options.config) has no admin_listen, so there is no gateway to ask; add \
                    admin_listen: 127.0.0.1:9090 and restart the gateway
                    """)
                throw ExitCode.failure
            }
            let token = try AdminToken.required(by: config, configPath: options.config, tokenFile: tokenFile,
                                                command: "outbox \(command)")
            switch AdminRequest(address: admin, method: method, path: path, token: token, timeoutMs: timeoutMs).send() {
            case .failure(let failure):
                ConfigFile.printError("justgate outbox \(command): \(failure)")
                throw ExitCode.failure
            case .success(let answer) where answer.status == 200:
                return answer.body
            case .success(let answer):
                let reason = answer.status == 401
                    ? "the admin listener refused the token (401); pass --token-file with the admin token"
                    : answer.body.trimmingCharacters(in: .whitespacesAndNewlines)
                ConfigFile.printError("justgate outbox \(command): \(method) \(path) answered \(answer.status): \(reason)")
                throw ExitCode.failure
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the deferred calls in one state, oldest first (at most 1,000): one line each.")

        @Option(help: "pending (the default), dead or delivered (delivered ones are remembered for a while).")
        var state: String = "pending"

        @Option(help: "Only this site's calls (a site id from the config).")
        var site: String?

        @OptionGroup var access: Access

        func validate() throws {
            guard ["pending", "dead", "delivered"].contains(state) else {
                throw ValidationError("--state takes pending, dead or delivered, like --state dead")
            }
            try OutboxCommand.checkSite(site)
        }

        func run() throws {
            let body = try access.ask("list", "GET", "/outbox?state=\(state)" + (site.map { "&site=\($0)" } ?? ""))
            guard case .object(let top)? = try? JSONParser.parse(body),
                  case .array(let entries)? = top.first(where: { $0.key == "entries" })?.value else {
                print(body)
                return
            }
            if entries.isEmpty { print("no \(state) entries") }
            for entry in entries {
                guard case .object(let members) = entry else { continue }
                func text(_ name: String) -> String {
                    switch members.first(where: { $0.key == name })?.value {
                    case .string(let value)?: value
                    case .number(let value)?: "\(value)"
                    default: "-"
                    }
                }
                print([text("id"), text("state"), text("site"), text("operation"), "attempts=" + text("attempts"),
                       "upstream_status=" + text("upstream_status"), "last_failure=" + text("last_failure"),
                       "created_at=" + text("created_at"), "next_attempt_at=" + text("next_attempt_at")].joined(separator: " "))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one deferred call's JSON (without its body).")

        @Argument(help: "The entry id (the last part of the 202's Location).")
        var id: String

        @OptionGroup var access: Access

        func run() throws {
            print(try access.ask("show", "GET", "/outbox/\(OutboxCommand.checked(id))"))
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a dead call pending again, due now; or, with --all-dead, every dead call (of --site).",
            discussion: """
                --all-dead retries the dead calls as they are when it runs, oldest first, at most 10,000 per run \
                (it says when more may be dead: run it again); a call that dies again meanwhile is not retried twice.
                """)

        @Argument(help: "The entry id (omit it with --all-dead).")
        var id: String?

        @Flag(help: "Retry every dead call (of --site, when given) instead of one.")
        var allDead = false

        @Option(help: "With --all-dead: only this site's dead calls.")
        var site: String?

        @OptionGroup var access: Access

        func validate() throws {
            switch (id, allDead) {
            case (nil, false): throw ValidationError("name the entry to retry, or pass --all-dead to retry every dead call")
            case (_?, true): throw ValidationError("pass an entry id or --all-dead, not both")
            default: break
            }
            if site != nil && !allDead { throw ValidationError("--site goes with --all-dead") }
            try OutboxCommand.checkSite(site)
        }

        func run() throws {
            let path = if let id { "/outbox/\(try OutboxCommand.checked(id))/retry" } else {
                "/outbox/retry" + (site.map { "?site=\($0)" } ?? "")
            }
            print(try access.ask("retry", "POST", path, timeoutMs: allDead ? 60_000 : 5000)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a deferred call: it will not be delivered (the site's Location then answers 404).")

        @Argument(help: "The entry id.")
        var id: String

        @OptionGroup var access: Access

        func run() throws {
            print(try access.ask("drop", "DELETE", "/outbox/\(OutboxCommand.checked(id))").trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// A site id as the config allows them: anything else names no site, and must not reach a query.
    static func checkSite(_ site: String?) throws {
        if let site, !SiteIDRule.isValid(site) {
            throw ValidationError("\(site.prefix(64)) is not a site id (a-z, 0-9, '.', '_', '-', as in the config's sites)")
        }
    }

    /// An id as the outbox makes them (hex digits): anything else cannot name an entry, and must not reach a path.
    static func checked(_ id: String) throws -> String {
        guard !id.isEmpty, id.count <= 64, id.allSatisfy(\.isHexDigit) else {
            throw ValidationError("\(id.prefix(64)) is not an outbox entry id (32 hex digits, the end of the 202's Location)")
        }
        return id
    }
}
