import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore
import JustGateSandbox
import JustGateReactor

/// `justgate sandbox`: the emulated Just Services API on its own, for trying sites against it.
struct Sandbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the emulated Just Services API on its own.",
        discussion: """
            Keeps profiles, subscriptions, actions and segments in memory, separately per token (a juid \
            belongs to the token that created it), and answers with the texts of the Just Services reference. \
            Calls must carry one of the given tokens in X-AUTH-TOKEN: --token (repeatable; shown by ps to every \
            user of the host), --token-file (one token a line) or --token-env (a variable, one token a line), \
            in any mix; sandbox-token when none is given.

            Texts. Where a reference line joins alternatives with "|", the one that applies is sent: \
            subscribe.sms "JuId empty" or "Not validate number"; unsubscribe "JuId is missing" (no juid), \
            "Mandatory parameter is missing" (no address), "User not found" (no such profile) or \
            "Subscription not found" (no subscription on that address); segments.get "JUID not found" (no juid) \
            or "User not found". subscribe.email's "JuId empty / Not validate email" is joined by "/" and is \
            sent whole. A juid that is not 32 hex digits is "User not found". Successful subscribe and \
            unsubscribe answer an empty body, as the reference's examples show. action.save's errors are the \
            sandbox's own (the reference lists none): "JuId is missing", "Mandatory parameter is missing" \
            (no tags or label), "User not found", "Error save data".

            Statuses (the reference names none; these are the sandbox's): 200 success; 400 invalid input, \
            including "Error save data" for a field over 255 characters; 401 "Invalid token"; 404 "Not found" \
            (unknown path), "User not found", "Subscription not found"; 405 "Method not allowed"; 422 \
            "Unprocessable Entity" (no subscription has the UTM update's address); 500 "Error save data" (store \
            full), "Error query"; 503 "Error service".

            Choices. Numeric action tags become segment ids; 35 and 36 mean an active e-mail and SMS \
            subscription. A UTM update on the push channel is accepted ("Metrics updated") and changes nothing, \
            since no endpoint creates push subscriptions. Statistics count subscriptions (the reference says \
            registered users), keep deactivated ones, date each by its first subscribe, group it by its current \
            refid (a later UTM update or re-subscribe moves it; none groups under ""), use UTC days and include \
            both ends of the range. stat.count_by_refid answers "User not found" when nothing falls in the \
            range; a range bound outside the years 1000-9999 is "Error query". "Error service" happens only \
            with --fail.

            --fail OPERATION=TEXT makes every call of OPERATION answer TEXT, with its usual status, once the \
            token, path and method are accepted; such calls change nothing. Repeat it for other operations. \
            Accepted operations and texts:
            \(SandboxFailures.allowedList)

            --unavailable-for SECONDS makes the whole sandbox an outage for SECONDS: every call is answered 503 \
            "Error service" (with Retry-After) and changes nothing; afterwards it serves as usual. The outage \
            begins at start, or --unavailable-after SECONDS later (time to create a profile first). \
            With a site that defers calls (sites[].defer) this shows store and forward: the call gets 202, and \
            is delivered once the outage ends.

            Examples:
              justgate sandbox --listen 127.0.0.1:8099 --token demo-upstream-token
              justgate sandbox --token-file /run/secrets/sandbox-tokens
              SANDBOX_TOKENS="$(cat tokens.txt)" justgate sandbox --token-env SANDBOX_TOKENS
              justgate sandbox --fail 'stat.by_refid=Error service'
              justgate sandbox --fail 'subscribe.sms=User not found' --fail 'utm.update=Invalid data'
              justgate sandbox --token demo-upstream-token --unavailable-after 30 --unavailable-for 60
            """
    )

    @Option(help: "Address to listen on (host:port).")
    var listen: String = "127.0.0.1:8099"

    @Option(name: .customLong("token"), help: "An accepted X-AUTH-TOKEN; repeat for several. Visible in ps: prefer --token-file or --token-env.")
    var tokens: [String] = []

    @Option(help: ArgumentHelp("A file of accepted tokens, one a line (blank lines and lines starting with # are skipped); repeat for several.",
                               valueName: "PATH"))
    var tokenFile: [String] = []

    @Option(help: ArgumentHelp("An environment variable holding accepted tokens, one a line; repeat for several.",
                               valueName: "NAME"))
    var tokenEnv: [String] = []

    @Option(
        name: .customLong("fail"),
        help: ArgumentHelp(
            "Answer every call of OPERATION with the documented error TEXT; repeat for several operations.",
            valueName: "OPERATION=TEXT"))
    var failures: [String] = []

    @Option(help: ArgumentHelp("Answer every call 503 \"Error service\" for this many seconds after start, then serve "
                                   + "as usual: an upstream outage to watch deferred calls being delivered.",
                               valueName: "SECONDS"))
    var unavailableFor: Int = 0

    @Option(help: ArgumentHelp("Begin the --unavailable-for outage this many seconds after start (default: at start).",
                               valueName: "SECONDS"))
    var unavailableAfter: Int = 0

    func validate() throws {
        guard (0...86_400).contains(unavailableFor) else {
            throw ValidationError("--unavailable-for takes seconds from 0 to 86400, like --unavailable-for 30")
        }
        guard (0...86_400).contains(unavailableAfter) else {
            throw ValidationError("--unavailable-after takes seconds from 0 to 86400, like --unavailable-after 30")
        }
        guard unavailableAfter == 0 || unavailableFor > 0 else {
            throw ValidationError("--unavailable-after needs --unavailable-for SECONDS (how long the outage lasts)")
        }
        _ = try parsedFailures()
        _ = try acceptedTokens()
    }

    /// Every token from `--token`, `--token-file` and `--token-env`; `sandbox-token` when none of them is given.
    /// Files and variables keep tokens out of the process list (`ps` shows every argument to every user).
    private func acceptedTokens() throws -> [String] {
        guard !tokens.isEmpty || !tokenFile.isEmpty || !tokenEnv.isEmpty else { return ["sandbox-token"] }
        var accepted = tokens
        let environment = ProcessSecretEnvironment()
        for path in tokenFile {
            let text: String
            do {
                text = try environment.fileContents(path)
            } catch {
                throw ValidationError("--token-file \(path): cannot read it (\(error)); check the path and its permissions")
            }
            let lines = Sandbox.tokenLines(text)
            guard !lines.isEmpty else { throw ValidationError("--token-file \(path) holds no token; write one token a line") }
            accepted += lines
        }
        for name in tokenEnv {
            guard let value = environment.environmentValue(name) else {
                throw ValidationError("--token-env \(name): the environment variable is not set; export it, or use --token-file")
            }
            let lines = Sandbox.tokenLines(value)
            guard !lines.isEmpty else { throw ValidationError("--token-env \(name) is empty; put a token in it") }
            accepted += lines
        }
        return accepted
    }

    /// The tokens of a file or variable: each line trimmed, blank lines and `#` comments skipped.
    static func tokenLines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    func run() throws {
        guard let (host, port) = HostPort.parse(listen), let address = SocketAddress(host: host, port: port) else {
            throw ValidationError("--listen must be a numeric host and port, like 127.0.0.1:8099 or [::1]:8099")
        }
        let forced = try parsedFailures()
        let accepted = try acceptedTokens()
        let signals = ShutdownSignals.block()
        let sandbox = try SandboxServer(listen: address, tokens: Set(accepted), failures: forced,
                                        unavailableForMs: unavailableFor * 1000, unavailableAfterMs: unavailableAfter * 1000)
        // On stderr and unbuffered, like `serve`'s start-up line, so a supervisor or test sees it at once.
        ConfigFile.printError(
            "justgate sandbox listening on \(sandbox.baseURL) (\(accepted.count) token\(accepted.count == 1 ? "" : "s"))")
        for item in failures {
            ConfigFile.printError("justgate sandbox: forcing --fail \(item)")
        }
        if unavailableFor > 0 {
            ConfigFile.printError("justgate sandbox: answering 503 to every call for \(unavailableFor) s, "
                                      + "from \(unavailableAfter) s after start (--unavailable-for)")
        }
        _ = signals.wait()
        sandbox.stop()
    }

    /// The `--fail` items as the sandbox takes them, or a usage error naming the allowed ids and texts.
    private func parsedFailures() throws -> SandboxFailures {
        do {
            return try SandboxFailures(parsing: failures)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// "host:port" and "[v6]:port" splitting for command-line addresses.
enum HostPort {
    static func parse(_ text: String) -> (String, Int)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
