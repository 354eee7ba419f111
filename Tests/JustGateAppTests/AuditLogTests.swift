import Foundation
import JustGateCore
import JustGateAuditReview
import Testing

/// The audit log written by a real gateway: one record per request of every outcome, masking, secrets,
/// rotation, restart and an unwritable directory.
@Suite(.serialized)
struct AuditLogTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"
    static let key = Array("audit-key-for-the-integration-tests".utf8)

    /// The parsed records of the live file once it holds at least `count` of them (or after 5 s).
    func records(_ gateway: GatewayFixture, atLeast count: Int) throws -> [AuditRecord] {
        let deadline = Date().addingTimeInterval(5)
        var lines: [String] = []
        repeat {
            lines = gateway.auditText().split(separator: "\n").map(String.init)
            if lines.count >= count { break }
            usleep(20_000)
        } while Date() < deadline
        return try lines.map { try AuditRecordDecoding.decode(Array($0.utf8)[...]) }
    }

    /// Runs the verifier over every file of the log in `directory`.
    static func verify(_ directory: String, key: [UInt8]?) throws -> AuditChainVerifier {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: key))
        for name in AuditFileNames.ordered(names, base: "audit.jsonl") {
            try verifier.beginFile(name)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
            let parts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                let isLast = index == parts.count - 1
                if isLast && part.isEmpty { break }
                try verifier.check(part, line: index + 1, terminated: !isLast)
            }
        }
        try verifier.finish()
        return verifier
    }

    @Test func everyOutcomeGetsOneRecordAndTheChainVerifies() throws {
        let gateway = try GatewayFixture(auditKey: Self.key)
        let form = "application/x-www-form-urlencoded"
        #expect(try gateway.send("POST", "/api/user/v1/subscription/create/profile", contentType: form, body: "ip=8.8.8.8").status == 200)
        #expect(try gateway.send("POST", "/api/user/v1/subscription/create/profile", key: nil, contentType: form, body: "ip=8.8.8.8").status == 401)
        #expect(try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: form, body: "juid=x&email=y").status == 422)
        #expect(try gateway.client().exchange("GARBAGE\r\n\r\n").status == 400)
        let records = try records(gateway, atLeast: 5)
        #expect(records.count == 5)
        #expect(records.map(\.event) == [.chainStart, .request, .request, .request, .request])
        #expect(records.dropFirst().map { $0.outcome ?? "" } == ["forwarded", "rejected_auth", "rejected_invalid", "rejected_invalid"])
        #expect(records.dropFirst().map { $0.status ?? 0 } == [200, 401, 422, 400])
        #expect(records[1].site == "horoscope-daily" && records[1].operation == "profile.create" && records[1].upstreamStatus == 200)
        #expect(records[1].attempts == 1 && records[1].upstreamMicros != nil && records[1].durationMicros != nil)
        #expect(records[2].site == nil)
        #expect(records[3].errors.map(\.code) == ["invalid_juid", "invalid_email"])
        #expect(records[3].errors.map(\.field) == ["juid", "email"])
        #expect(records[4].method == nil && records[4].client == "127.0.0.1")
        let verifier = try Self.verify(gateway.auditDirectory, key: Self.key)
        #expect(verifier.records == 5)
    }

    @Test func requestsTheServerAnswersItselfAreRecordedToo() throws {
        let gateway = try GatewayFixture(serverYAML: "  max_connections: 2\n  max_body_bytes: 16\n  header_timeout_ms: 200\n")
        let tooLarge = try gateway.client().exchange("POST /api/user/v1/action/ HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
        #expect(tooLarge.status == 413)
        let slow = try gateway.client()
        try slow.send("GET /api/user/v1/info/segment/ HTTP/1.1\r\n")
        #expect(try slow.readResponse().status == 408)
        // The two connections above close (after a linger) before the cap is tested with fresh ones.
        let closed = Date().addingTimeInterval(5)
        while gateway.runtime.connectionCount != 0 && Date() < closed { usleep(20_000) }
        let held = [try gateway.client(), try gateway.client()]
        try held.forEach { try $0.send("G") }
        // Both held connections accepted before the third tries: wait for the count, not for a fixed time.
        #expect(Polling.read(timeoutSeconds: 5, until: { $0 == 2 }) { gateway.runtime.connectionCount } == 2)
        #expect(try gateway.client().readResponse().status == 503)
        let records = try records(gateway, atLeast: 4)
        let requests = records.filter { $0.event == .request }
        #expect(requests.map { $0.status ?? 0 } == [413, 408, 503])
        #expect(requests.map { $0.outcome ?? "" } == ["rejected_invalid", "rejected_invalid", "rejected_overload"])
        // The parser refuses these before a head exists, so method and path are unknown: null, not guessed.
        #expect(requests.allSatisfy { $0.method == nil && $0.path == nil && $0.site == nil })
        #expect(requests.allSatisfy { $0.requestID?.count == 32 && $0.client == "127.0.0.1" })
        var log = gateway.logText()
        let logged = Date().addingTimeInterval(3)  // the log sink flushes every 50 ms
        while !log.contains("\"outcome\":\"rejected_overload\"") && Date() < logged {
            usleep(20_000)
            log = gateway.logText()
        }
        #expect(log.contains("\"status\":413") && log.contains("\"status\":408") && log.contains("\"outcome\":\"rejected_overload\""))
    }

    @Test func upstreamFailuresAreRecordedByKind() throws {
        let silent = try SilentListener()
        let slow = try GatewayFixture(upstream: "http://127.0.0.1:\(silent.port)", timeoutMs: 300)
        #expect(try slow.send("GET", "/api/user/v1/info/segment/?juid=\(juid)").status == 504)
        #expect(try records(slow, atLeast: 2).last?.outcome == "upstream_timeout")

        let closed = try GatewayFixture(upstream: "http://127.0.0.1:\(try ClosedPort.make())")
        #expect(try closed.send("GET", "/api/user/v1/info/segment/?juid=\(juid)").status == 502)
        #expect(try records(closed, atLeast: 2).last?.outcome == "upstream_error")

        let gone = try GatewayFixture(upstream: "http://127.0.0.1:\(silent.port)", timeoutMs: 5000)
        do {
            let client = try gone.client()
            try client.send("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
            usleep(200_000)
        }
        let last = try records(gone, atLeast: 2).last
        #expect(last?.outcome == "client_gone")
        #expect(last?.status == 499)
    }

    @Test func personalFieldsAreMaskedAndTheNameIsNeverWritten() throws {
        let gateway = try GatewayFixture()
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                       contentType: "application/x-www-form-urlencoded",
                                       body: "ip=203.0.113.77&name=Elena+Petrova")
        #expect(created.status == 200)
        let newJUID = created.text.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: "application/x-www-form-urlencoded",
                             body: "juid=\(newJUID)&email=elena.petrova@example.com")
        _ = try gateway.send("POST", "/api/user/v1/subscription/subscribe/sms", contentType: "application/x-www-form-urlencoded",
                             body: "juid=\(newJUID)&number=8+912+345+67+89")
        let records = try records(gateway, atLeast: 4)
        #expect(records[1].ip == "203.0.113.0/24")
        #expect(records[2].email == "e***@example.com" && records[2].juid == newJUID)
        #expect(records[3].phone == "7912*****89")
        // The writer masks them (the loops hand it the values as validated), and the request log never reads them.
        for text in [gateway.auditText(), gateway.logText()] {
            for raw in ["Elena", "Petrova", "203.0.113.77", "elena.petrova", "9123456789"] { #expect(!text.contains(raw)) }
        }
        #expect(gateway.logText().contains("subscribe.sms"))
    }

    @Test func noSecretReachesTheAuditOrTheLogWhateverIsSent() throws {
        let gateway = try GatewayFixture(auditKey: Self.key)
        let secrets = [GatewayFixture.horoscopeKey, GatewayFixture.newsKey, GatewayFixture.horoscopeToken, GatewayFixture.newsToken]
        let form = "application/x-www-form-urlencoded"
        var sent = 0
        for secret in secrets {
            let escaped = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret
            _ = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: form,
                                 body: "juid=\(escaped)&email=\(escaped)%40example.com&\(escaped)=\(escaped)&name=\(escaped)")
            _ = try gateway.send("GET", "/api/\(secret)/segment/?juid=\(secret)")
            _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", headers: ["X-Request-Id: \(secret)", "X-Other: \(secret)"])
            _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: secret, headers: ["Authorization: Bearer \(secret)"])
            sent += 4
        }
        _ = try gateway.client().exchange("GET /\(GatewayFixture.horoscopeKey) HTTP/1.1\r\nX-AUTH-TOKEN \(GatewayFixture.horoscopeToken)\r\n\r\n")
        sent += 1
        let records = try records(gateway, atLeast: sent + 1)
        #expect(records.count == sent + 1)
        let keyText = String(decoding: Self.key, as: UTF8.self)
        let outputs = [gateway.auditText(), gateway.logText()]
        for output in outputs {
            for secret in secrets + [keyText] { #expect(!output.contains(secret), "\(secret) in \(output.prefix(200))") }
        }
    }

    @Test func rotationKeepsTheChainAcrossFilesAndPrunesOldOnes() throws {
        let gateway = try GatewayFixture(auditYAML: "  rotate_bytes: 4096\n  keep_files: 2", auditKey: Self.key)
        for _ in 0..<60 { _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)") }
        gateway.runtime.stop()
        let names = try FileManager.default.contentsOfDirectory(atPath: gateway.auditDirectory)
        let ordered = AuditFileNames.ordered(names, base: "audit.jsonl")
        #expect(ordered.count == 3, "\(ordered)")
        let verifier = try Self.verify(gateway.auditDirectory, key: Self.key)
        #expect(verifier.notices.contains { $0.contains("earlier records were rotated away") })
        var info = stat()
        #expect(stat(gateway.auditDirectory, &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(stat(gateway.auditDirectory + "/audit.jsonl", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func aRestartContinuesTheChainAndATornLineIsReported() throws {
        let directory: String
        do {
            let first = try GatewayFixture(auditKey: Self.key)
            directory = first.auditDirectory
            _ = try first.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
            first.runtime.stop()
            // Keep the directory: the fixture removes it on deinit, so copy it aside first.
            try FileManager.default.copyItem(atPath: directory, toPath: directory + "-kept")
        }
        let kept = directory + "-kept"
        defer { try? FileManager.default.removeItem(atPath: kept) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: kept + "/audit.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2026-11-29T17:".utf8))
        handle.closeFile()

        let second = try GatewayFixture(auditYAML: "", auditKey: Self.key, auditDirectory: kept)
        #expect(second.runtime.audit?.writer.startupNotices.first?.contains("torn last line at \(kept)/audit.jsonl:3") == true)
        _ = try second.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        second.runtime.stop()
        let lines = second.auditText().split(separator: "\n")
        #expect(lines.count == 5)
        let restart = try AuditRecordDecoding.decode(Array(lines[3].utf8)[...])
        #expect(restart.event == .chainRestart && restart.seq == 3)
        let verifier = try Self.verify(kept, key: Self.key)
        #expect(verifier.records == 4)
        #expect(verifier.notices.count == 1)
    }

    @Test func anUnwritableLogIsA503UntilItCanBeWrittenAgainThenServedAsBefore() throws {
        let gateway = try GatewayFixture()
        let target = "/api/user/v1/info/segment/?juid=\(juid)"
        let served = try gateway.send("GET", target).status
        #expect(served != 503)
        // Root ignores permissions, so make the directory impossible to use: a plain file in its place.
        let moved = gateway.auditDirectory + "-moved"
        try FileManager.default.moveItem(atPath: gateway.auditDirectory, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        _ = FileManager.default.createFile(atPath: gateway.auditDirectory, contents: Data("not a directory".utf8))
        var status = 200
        // Generous deadlines: liveness checks (the writer notices within ~100 ms), which a loaded CI box must pass.
        let deadline = Date().addingTimeInterval(15)
        status = served
        while status != 503 && Date() < deadline {
            status = try gateway.send("GET", target).status
            usleep(20_000)
        }
        #expect(status == 503)
        let refused = try gateway.send("GET", target)
        #expect(refused.status == 503 && refused.text.contains("audit log cannot be written"))
        #expect(refused.header("Content-Type") == "application/problem+json")

        try FileManager.default.removeItem(atPath: gateway.auditDirectory)
        let recovered = Date().addingTimeInterval(15)
        while status == 503 && Date() < recovered {
            status = try gateway.send("GET", target).status
            usleep(20_000)
        }
        #expect(status == served)
        var log = gateway.logText()
        let logged = Date().addingTimeInterval(10)
        while !log.contains("audit log writable again") && Date() < logged {
            usleep(20_000)
            log = gateway.logText()
        }
        #expect(log.components(separatedBy: "audit log cannot be written; requests are answered 503").count == 2)
        #expect(log.components(separatedBy: "audit log writable again").count == 2)
    }

    @Test func withAuditNotRequiredRequestsAreServedWhileTheLogIsDown() throws {
        let gateway = try GatewayFixture(auditYAML: "  required: false")
        let target = "/api/user/v1/info/segment/?juid=\(juid)"
        try FileManager.default.removeItem(atPath: gateway.auditDirectory)
        _ = FileManager.default.createFile(atPath: gateway.auditDirectory, contents: Data("x".utf8))
        usleep(300_000)
        #expect(try gateway.send("GET", target).status != 503)
        try FileManager.default.removeItem(atPath: gateway.auditDirectory)
    }
}

/// `log.requests`: which requests get a log line, while the audit log keeps every one.
@Suite(.serialized)
struct RequestLogPolicyTests {
    @Test func errorsOnlyLogsFailedRequestsAndTheAuditStillHasAll() throws {
        let gateway = try GatewayFixture(extraYAML: "log: { requests: errors }")
        let form = "application/x-www-form-urlencoded"
        #expect(try gateway.send("POST", "/api/user/v1/subscription/create/profile", contentType: form, body: "ip=8.8.8.8").status == 200)
        #expect(try gateway.send("POST", "/api/user/v1/subscription/create/profile", key: nil, contentType: form, body: "").status == 401)
        let deadline = Date().addingTimeInterval(3)
        while (gateway.auditText().split(separator: "\n").count < 3 || !gateway.logText().contains("rejected_auth")) && Date() < deadline {
            usleep(20_000)
        }
        let requestLines = gateway.logText().split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }
        #expect(requestLines.count == 1 && requestLines[0].contains("\"status\":401"))
        #expect(gateway.auditText().split(separator: "\n").count == 3)
    }
}
