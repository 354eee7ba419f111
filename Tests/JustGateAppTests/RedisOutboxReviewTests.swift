import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// The Redis outbox review's findings (issue 25 item 6), each with the real `justgate` binary and a real
/// `redis-server`: a lost lease stops its attempt, a stopping gateway hands its entries over at once, an
/// unanswered keep says its outcome is unknown, `max_bytes` counts an entry's growth, script errors are not
/// outages, a dropped entry frees its juid, and reads answer 503 (not 404) while Redis is down.
@Suite(.serialized)
struct RedisOutboxReviewTests {
    let base = RedisOutboxTests()
    var cli: CommandLineTests { base.cli }
    var environment: [String: String] { base.environment }
    static let lease = "jg:ob:{jg-outbox}:lease"

    func keep(_ port: Int, juid: Int, action: String = "subscribe") throws -> RawHTTPClient.Response {
        try base.send(port, "POST", "/api/user/v1/subscription/\(action)/email",
                      body: "juid=\(RedisOutboxTests.juid(juid))&email=a%40example.com", headers: ["Prefer: respond-async"])
    }

    /// A lease that cannot be renewed (here taken away in Redis, as when it ended during an outage) stops its
    /// attempt at the next renewal, unrecorded: it is not left running while another gateway may send that juid.
    @Test func aLostLeaseStopsItsAttempt() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.silent)
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url, leaseMs: 4100,
                                                             timeoutMs: 3000), environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        #expect(try keep(port, juid: 21).status == 202)
        #expect(upstream.waitForRequests(1, timeoutSeconds: 5) == 1)
        let member = "j:horoscope-daily:\(RedisOutboxTests.juid(21))"
        #expect(try redis.command("HDEL \(Self.lease) \(member)") == ":1")
        // The renewal (every 1.4 s) finds it gone: waited for, not slept on (a loaded CI).
        gateway.log += gateway.process.readStderr(until: "could not be renewed", timeoutSeconds: 10)
        // Not stopped, the attempt would end at its own timeout (3 s) and settle late ("lease ended before…"):
        // a graceful stop lets attempts under way finish within grace_ms (10 s) and waits for their settles, so
        // the stop itself is the wait that would show that line.
        _ = gateway.stop()
        #expect(gateway.log.contains("could not be renewed"), "\(gateway.log)")
        #expect(!gateway.log.contains("lease ended before its attempt was recorded"), "\(gateway.log)")
    }

    /// SIGTERM while an attempt hangs: claims stop, the attempt gets `shutdown.grace_ms`, then its lease is
    /// released, so the other gateway delivers the entry at once rather than after `lease_ms` (20 s here).
    @Test func aStoppedGatewayHandsItsEntriesOverAtOnce() throws {
        let redis = try RedisServer()
        let hanging = try ScriptedUpstream(.silent)
        let working = try ScriptedUpstream(.answer(200, "ok"))
        defer { hanging.stop(); working.stop() }
        var a = try cli.startServe(config: base.config(upstream: hanging.url, redis: redis.url, leaseMs: 20_000,
                                                       timeoutMs: 10_000, graceMs: 300), environment: environment)
        let portA = try #require(a.port, "\(a.log)")
        let accepted = try keep(portA, juid: 22)
        let location = try #require(accepted.header("Location"), "\(accepted.text)")
        #expect(hanging.waitForRequests(1, timeoutSeconds: 5) == 1)
        var b = try cli.startServe(config: base.config(upstream: working.url, redis: redis.url, leaseMs: 20_000),
                                   environment: environment)
        defer { _ = b.stop() }
        let portB = try #require(b.port, "\(b.log)")
        let stoppedAt = Date()
        #expect(a.stop() == 0, "\(a.log)")
        let state = Polling.read(timeoutSeconds: 8, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? self.base.send(portB, "GET", location).text) ?? ""
        }
        #expect(state.contains("\"state\":\"delivered\""), "\(state)")
        #expect(Date().timeIntervalSince(stoppedAt) < 10, "delivered only after the lease ended")
    }

    /// A keep Redis received but never answered may have happened: 503 with the would-be Location to poll.
    @Test func anUnansweredKeepAnswers503WithItsLocation() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(200, "ok"))
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url), environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")
        // Redis holds every command for 3 s: the keep is written, its reply comes after the 2 s timeout.
        #expect(try redis.command("CLIENT PAUSE 3000 ALL") == "+OK")
        let answer = try keep(port, juid: 23)
        #expect(answer.status == 503 && answer.text.contains("is unknown"), "\(answer.status) \(answer.text)")
        let location = try #require(answer.header("Location"), "\(answer.text)")
        #expect(location.hasPrefix(RequestDriver.deliveriesPrefix))
    }

    /// Each attempt rewrites the entry with the upstream's answer (up to 2 KiB): `max_bytes` counts it.
    @Test func anEntrysGrowthIsCounted() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(503, String(repeating: "x", count: 1800)))
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url), environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")
        let accepted = try keep(port, juid: 24)
        let location = try #require(accepted.header("Location"), "\(accepted.text)")
        let state = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"attempts\":1") }) {
            (try? self.base.send(port, "GET", location).text) ?? ""
        }
        #expect(state.contains("\"attempts\":1"), "\(state)")
        let bytes = try redis.command("GET jg:ob:{jg-outbox}:bytes")
        // The reply's bulk text: "$<length>" then the number on the next line; the tool gives the first line.
        let counted = try redis.command("EVAL \"return tonumber(redis.call('GET', KEYS[1])) > 1800 and 1 or 0\" 1 "
                                        + "jg:ob:{jg-outbox}:bytes")
        #expect(counted == ":1", "bytes \(bytes)")
    }

    /// A script error is Redis answering, not an outage: logged as such, never as "unavailable".
    @Test func aScriptErrorIsNotAnOutage() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(200, "ok"))
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url), environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        #expect(try redis.command("SET jg:ob:{jg-outbox}:bytes not-a-number") == "+OK")
        for juid in 25...26 {
            let refused = try keep(port, juid: juid)
            #expect(refused.status == 503 && refused.text.contains("Redis refused"), "\(refused.text)")
        }
        _ = gateway.stop()
        #expect(gateway.log.components(separatedBy: "Redis refused an outbox operation").count == 2, "\(gateway.log)")
        #expect(!gateway.log.contains("Redis for the outbox is unavailable; calls"), "\(gateway.log)")
    }

    /// Dropping the entry under way frees its juid at once: the next call is delivered without waiting out
    /// the holder's lease (20 s here).
    @Test func droppingAnEntryUnderWayFreesItsJuid() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.delayed(1500, 200, "ok"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url, adminPort: adminPort,
                                                             leaseMs: 20_000, timeoutMs: 5000), environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        let first = try #require(try keep(port, juid: 27).header("Location"))
        #expect(upstream.waitForRequests(1, timeoutSeconds: 5) == 1)
        let second = try #require(try keep(port, juid: 27, action: "unsubscribe").header("Location"))
        let id = String(first.dropFirst(RequestDriver.deliveriesPrefix.count))
        let dropped = try RawHTTPClient(port: adminPort).exchange("DELETE /outbox/\(id) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        #expect(dropped.status == 200, "\(dropped.text)")
        let state = Polling.read(timeoutSeconds: 8, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? self.base.send(port, "GET", second).text) ?? ""
        }
        #expect(state.contains("\"state\":\"delivered\""), "\(state)")
        _ = gateway.stop()
        #expect(gateway.log.contains("dropped by an operator"), "\(gateway.log)")
    }
}

extension RedisOutboxReviewTests {
    /// Redis down: a delivery's state cannot be read, which is a 503 to poll again, not a 404 that would tell
    /// the site its call is gone; the admin endpoint alike.
    @Test func readsWhileRedisIsDownAnswer503() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(503, "Error service"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                         environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")
        let location = try #require(try keep(port, juid: 28).header("Location"))
        redis.stop()
        let read = try base.send(port, "GET", location)
        #expect(read.status == 503 && read.text.contains("cannot be read now"), "\(read.status) \(read.text)")
        let id = String(location.dropFirst(RequestDriver.deliveriesPrefix.count))
        let admin = try RawHTTPClient(port: adminPort).exchange("GET /outbox/\(id) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        #expect(admin.status == 503, "\(admin.status) \(admin.text)")
    }
}

extension RedisOutboxReviewTests {
    /// An attempt whose record came back `lost` (its lease ended first) is repeated by the key's next holder:
    /// it is counted there, not here, so `/metrics` sums over gateways without counting it twice.
    @Test func aLostSettleIsNotCounted() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.delayed(1000, 200, "ok"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url, adminPort: adminPort,
                                                             leaseMs: 4100, timeoutMs: 3000), environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        #expect(try keep(port, juid: 29).status == 202)
        #expect(upstream.waitForRequests(1, timeoutSeconds: 5) == 1)
        // Another holder's token, before the first renewal (1.4 s) and the answer (1 s): the settle finds it.
        let member = "j:horoscope-daily:\(RedisOutboxTests.juid(29))"
        #expect(try redis.command("HSET \(Self.lease) \(member) someone-else:1") == ":0")
        gateway.log += gateway.process.readStderr(until: "lease ended before its attempt was recorded", timeoutSeconds: 10)
        let metrics = try RawHTTPClient(port: adminPort).exchange("GET /metrics HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n").text
        _ = gateway.stop()
        #expect(gateway.log.contains("lease ended before its attempt was recorded"), "\(gateway.log)")
        #expect(!metrics.contains("justgate_outbox_delivered_total{site=\"horoscope-daily\"} 1"), "\(metrics)")
    }
}

extension RedisOutboxReviewTests {
    /// An entry that cannot be read is logged by its id, never by its Redis key, which holds the juid.
    @Test func anUnreadableEntryIsLoggedByItsIDNotItsJuid() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(503, "Error service"))
        defer { upstream.stop() }
        // Retries 2 s apart: time to spoil the record between the first attempt's settle and the next claim.
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: base.config(upstream: upstream.url, redis: redis.url, adminPort: adminPort,
                                                             retryMs: 2000),
                                         environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        let location = try #require(try keep(port, juid: 30).header("Location"))
        let id = String(location.dropFirst(RequestDriver.deliveriesPrefix.count))
        // The first attempt's result is recorded (its settle rewrites the record: spoiling it before then was
        // undone by the settle on a loaded run, and no claim ever met the garbage).
        let tried = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"attempts\":1") }) {
            (try? self.base.send(port, "GET", location).text) ?? ""
        }
        #expect(tried.contains("\"attempts\":1"), "\(tried)")
        #expect(try redis.command("HSET jg:ob:{jg-outbox}:e:\(id) r garbage") == ":0")
        // The retry comes due about 2 s later; the claim then meets the unreadable record (waited for, not slept
        // on: a loaded CI took longer than a fixed 1.5 s).
        gateway.log += gateway.process.readStderr(until: "cannot be read", timeoutSeconds: 10)
        // What the log tells the operator to do: drop it. The lookup cannot read it, the drop still goes.
        let dropped = try RawHTTPClient(port: adminPort).exchange(
            "DELETE /outbox/\(id) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        #expect(dropped.status == 200 && dropped.text == "dropped \(id)\n", "\(dropped.status) \(dropped.text)")
        #expect(try redis.command("EXISTS jg:ob:{jg-outbox}:e:\(id)") == ":0")
        _ = gateway.stop()
        let line = gateway.log.split(separator: "\n").first { $0.contains("cannot be read") }.map(String.init) ?? ""
        #expect(line.contains(id) && !line.contains(RedisOutboxTests.juid(30)), "\(gateway.log)")
    }
}
