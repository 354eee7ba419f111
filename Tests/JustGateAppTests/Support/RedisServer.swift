import Foundation
import Testing

/// A real `redis-server` for one test: a free loopback port, its own temporary directory, no
/// persistence unless asked (`persistence`), stopped (and its directory removed) when the fixture goes away. It can be stopped
/// and started again on the same port, to test what the gateway does while Redis is away.
///
/// A free port is only free until someone binds it: a parallel test's server can take it between the pick
/// and this server's start, and would then answer this fixture's PING while this one exits. So the server
/// that answers must report this child's process id, or the fixture starts again on another port.
final class RedisServer {
    private(set) var port: Int
    private let directory: String
    private var process: ChildProcess?
    /// How the server persists: by default neither AOF nor RDB snapshots.
    private let persistence: [String]

    var url: String { "redis://127.0.0.1:\(port)/0" }

    init(persistence: [String] = ["--save", "", "--appendonly", "no"]) throws {
        self.persistence = persistence
        guard let executable = RedisServer.executable else {
            throw ChildProcess.Failure(description: "redis-server is not installed; `make test` installs it (apt package redis-server)")
        }
        _ = executable
        port = try FreePort.pick()
        directory = NSTemporaryDirectory() + "justgate-redis-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var tries = 0
        while true {
            try start()
            if try answeringProcessID() == process?.pid { return }
            stop()
            tries += 1
            guard tries < 5 else {
                throw ChildProcess.Failure(description: "another redis-server kept taking the ports picked for this test's")
            }
            port = try FreePort.pick()
        }
    }

    /// The process id of the redis-server answering on `port`.
    private func answeringProcessID() throws -> pid_t? {
        let client = try RawHTTPClient(port: port)
        let info = try client.exchangeRaw("INFO server\r\n", until: "tcp_port:")
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("process_id:") }) else { return nil }
        return pid_t(line.dropFirst("process_id:".count))
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static var executable: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts the server and waits (up to 5 s) until it answers on its port.
    func start() throws {
        guard process == nil, let executable = RedisServer.executable else { return }
        process = try ChildProcess(executable, [
            "--port", String(port), "--bind", "127.0.0.1"] + persistence + [
            "--dir", directory, "--logfile", directory + "/redis.log", "--daemonize", "no",
        ])
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if (try? ping()) == true { return }
            usleep(20_000)
        }
        throw ChildProcess.Failure(description: "redis-server did not answer on port \(port) within 5 s")
    }

    /// Stops the server and waits for it to exit.
    func stop() {
        guard let process else { return }
        process.signal(SIGKILL)
        _ = process.wait()
        self.process = nil
    }

    /// Sends one inline command and returns the reply's first line.
    @discardableResult
    func command(_ text: String) throws -> String {
        let client = try RawHTTPClient(port: port)
        let reply = try client.exchangeRaw(text + "\r\n", until: "\r\n")
        return reply.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
    }

    private func ping() throws -> Bool {
        try command("PING") == "+PONG"
    }
}

/// A port nobody listens on right now (bound, read back and released).
enum FreePort {
    static func pick() throws -> Int {
        let (fd, port) = try LoopbackListener.open(backlog: 1)
        close(fd)
        return port
    }
}
