import ArgumentParser
import JustGateApp
import JustGateServer

/// `justgate sandbox`: the emulated Just Services API on its own, for trying sites against it.
struct Sandbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the emulated Just Services API on its own.",
        discussion: """
            Keeps profiles, subscriptions, actions and segments in memory and answers like the real API, \
            including its error texts. Calls must carry one of the given tokens in X-AUTH-TOKEN.

            Example: justgate sandbox --listen 127.0.0.1:8099 --token demo-upstream-token
            """
    )

    @Option(help: "Address to listen on (host:port).")
    var listen: String = "127.0.0.1:8099"

    @Option(name: .customLong("token"), help: "An accepted X-AUTH-TOKEN; repeat for several.")
    var tokens: [String] = ["sandbox-token"]

    func run() throws {
        guard let (host, port) = HostPort.parse(listen), let address = SocketAddress(host: host, port: port) else {
            throw ValidationError("--listen must be a numeric host and port, like 127.0.0.1:8099 or [::1]:8099")
        }
        let signals = ShutdownSignals.block()
        let sandbox = try SandboxServer(listen: address, tokens: Set(tokens))
        print("justgate sandbox listening on \(sandbox.baseURL) (\(tokens.count) token\(tokens.count == 1 ? "" : "s"))")
        _ = signals.wait()
        sandbox.stop()
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
