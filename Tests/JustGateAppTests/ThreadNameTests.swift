import Foundation
import JustGateApp
import JustGateServer
import JustGateReactor
import Testing

/// The threads justgate starts carry names the kernel shows (`top -H`, `ps -L`, /proc/PID/task/TID/comm).
@Suite(.serialized)
struct ThreadNameTests {
    /// The kernel names of this process's threads.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The thread names once `name` is among them, or what they are after `timeoutSeconds`.
    static func threadNames(including name: String, timeoutSeconds: Double = 5) -> [String] {
        Polling.read(timeoutSeconds: timeoutSeconds, until: { $0.contains(name) }, threadNames)
    }

    @Test func eventLoopThreadsAreNamedByIndex() throws {
        let gateway = try GatewayFixture(workers: 2)
        let names = ThreadNameTests.threadNames(including: "jg-loop-1")
        #expect(names.contains("jg-loop-0"), "\(names)")
        #expect(names.contains("jg-loop-1"), "\(names)")
        _ = gateway
    }

    @Test func aServerCanNameItsLoopsApart() throws {
        let loopback = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        var configuration = ServerConfiguration(address: loopback, workers: 1)
        configuration.threadNamePrefix = "jg-namecheck"
        let server = HTTPServer(configuration: configuration) { _ in ServerStartTests.Answering() }
        try server.start()
        defer { server.stop() }
        let names = ThreadNameTests.threadNames(including: "jg-namecheck-0")
        #expect(names.contains("jg-namecheck-0"), "\(names)")
    }

    @Test func theLogFlusherIsNamed() {
        let sink = LogSink(fd: 2, flushIntervalMs: 1000)
        let names = ThreadNameTests.threadNames(including: "jg-log")
        #expect(names.contains("jg-log"), "\(names)")
        _ = sink
    }
}
