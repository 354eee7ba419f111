#if canImport(Glibc)
import Glibc
#endif
import JustGateReactor
import JustGateRedis
import Testing

/// `RedisConnection` (the edge that performs `RedisConnectionStateMachine`'s actions) on a real event loop,
/// against a real `redis-server` or a unix socket path nobody listens on: what the owner is told, and when
/// commands wait, get their replies or fail at once.
@Suite(.serialized)
struct RedisConnectionTests {
    /// Turns a loop of its own until a condition holds or a time limit passes.
    final class Harness: EventLoopDriver {
        let loop: EventLoop
        private let wakeFD: Int32
        private var until: () -> Bool = { true }
        private var limit = MonotonicInstant.now()

        init() throws {
            wakeFD = try EventLoop.openWakeup()
            loop = EventLoop(index: 0, epollFD: try EventLoop.openEpoll(), wakeFD: wakeFD)
        }

        deinit { _ = close(wakeFD) }

        /// Runs the loop until `condition` holds (true) or `ms` pass (false).
        @discardableResult
        func run(atMostMs ms: Int, until condition: @escaping () -> Bool) -> Bool {
            until = condition
            limit = MonotonicInstant.now().advanced(byMilliseconds: ms)
            tick()
            loop.run(driver: self)
            return condition()
        }

        /// A timer every 10 ms, so the loop never sleeps past the limit.
        private func tick() {
            _ = loop.scheduleTimer(afterMs: 10) { [weak self] in
                guard let self, !self.loopShouldEnd() else { return }
                self.tick()
            }
        }

        func loopAwoke() {}
        func loopShouldEnd() -> Bool { until() || !(MonotonicInstant.now() < limit) }
        func listenerReady(_ fd: Int32) {}
        func connectionReady(_ fd: Int32, events: IOEvents) {}
    }

    /// What the owner was told.
    final class Changes {
        var states: [RedisConnection.State] = []
        var reasons: [String?] = []
    }

    static func connection(_ harness: Harness, _ target: RedisTarget, handshake: [[String]] = [["PING"]],
                           _ changes: Changes) -> RedisConnection {
        RedisConnection(loop: harness.loop, target: target, handshake: handshake, timeoutMs: 500) { state, reason in
            changes.states.append(state)
            changes.reasons.append(reason)
        }
    }

    @Test func aUnixSocketThatIsNotThereIsReportedAsAnOutageOnceAndRefusesCommandsAtOnce() throws {
        let harness = try Harness()
        let changes = Changes()
        let path = "/tmp/justgate-no-redis-\(getpid()).sock"
        let connection = Self.connection(harness, .unix(path: path), changes)
        connection.connect()
        // Several reconnects (after 50, 100, 200 ms): still one report. It used to be none at all, since an
        // immediate `connect` failure left the connection in the state it started in (down).
        harness.run(atMostMs: 500) { false }
        #expect(changes.states == [.down])
        #expect(changes.reasons.first??.contains("connect:") == true)
        #expect(connection.state == .down || connection.state == .connecting)
        var refused: Result<RESPValue, RedisFailure>?
        connection.send(["PING"]) { refused = $0 }
        #expect(refused == .failure(.unavailable("Redis is not connected")))
    }

    @Test func aCommandSentDuringTheFirstConnectWaitsForItAndAnOutageIsReportedOnceEachWay() throws {
        let redis = try RedisServer()
        let harness = try Harness()
        let changes = Changes()
        let target = try #require(SocketAddress(host: "127.0.0.1", port: redis.port))
        let connection = Self.connection(harness, .inet(target), changes)
        connection.connect()
        #expect(connection.acceptsCommands)
        var first: Result<RESPValue, RedisFailure>?
        connection.send(["ECHO", "first"]) { first = $0 }
        #expect(harness.run(atMostMs: 5_000) { first != nil })
        #expect(first == .success(.bulk(Array("first".utf8))))
        #expect(changes.states == [.ready])
        #expect(connection.handshakeReplies == [.simple("PONG")])
        // An error reply is the command's answer; the connection stays up.
        var wrong: Result<RESPValue, RedisFailure>?
        connection.send(["NOSUCHCOMMAND"]) { wrong = $0 }
        #expect(harness.run(atMostMs: 5_000) { wrong != nil })
        guard case .success(.error) = wrong else { Issue.record("expected an error reply, got \(String(describing: wrong))"); return }
        #expect(connection.state == .ready)

        redis.stop()
        #expect(harness.run(atMostMs: 5_000) { connection.state != .ready })
        // Reconnecting after a failure: refused at once, and the failed reconnects are not reported again.
        var refused: Result<RESPValue, RedisFailure>?
        connection.send(["PING"]) { refused = $0 }
        #expect(refused == .failure(.unavailable("Redis is not connected")))
        harness.run(atMostMs: 400) { false }
        #expect(changes.states == [.ready, .down])

        try redis.start()
        #expect(harness.run(atMostMs: 5_000) { connection.state == .ready })
        #expect(changes.states == [.ready, .down, .ready])
    }

    @Test func aHandshakeRedisRefusesIsAnOutageWithItsReason() throws {
        let redis = try RedisServer()
        let harness = try Harness()
        let changes = Changes()
        let target = try #require(SocketAddress(host: "127.0.0.1", port: redis.port))
        let connection = Self.connection(harness, .inet(target), handshake: [["SELECT", "99999"]], changes)
        connection.connect()
        var queued: Result<RESPValue, RedisFailure>?
        connection.send(["PING"]) { queued = $0 }
        #expect(harness.run(atMostMs: 5_000) { queued != nil })
        #expect(changes.states == [.down])
        #expect(changes.reasons.first??.hasPrefix("Redis refused the connection set-up: ERR") == true)
        guard case .failure(.broken(let text)) = queued else { Issue.record("expected broken, got \(String(describing: queued))"); return }
        #expect(text.hasPrefix("Redis refused the connection set-up"))
    }
}
