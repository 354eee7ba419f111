import Foundation
import Logging
import Testing
@testable import JustGateApp

/// The request line is encoded by hand for speed; these pin it to the shape every other line has.
@Suite struct RequestLogTests {
    private func record(status: Int) -> RequestRecord {
        var record = RequestRecord(requestID: "req-1", method: "POST", path: "/api/user/v1/action/",
                                   clientAddress: "127.0.0.1", receivedAtNanos: 0)
        record.siteID = "horoscope-\"daily\""
        record.operationID = "action.save"
        record.status = status
        record.outcome = .rejectedInvalid
        record.upstreamStatus = 200
        record.problemCodes = ["invalid_email", "missing"]
        return record
    }

    private func line(_ record: RequestRecord, durationMicros: Int = 1_234) throws -> (text: String, object: [String: Any]) {
        var bytes: [UInt8] = []
        RequestLog.encode(record, level: RequestLog.level(forStatus: record.status), label: "justgate",
                          durationMicros: durationMicros, to: &bytes)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        return (String(decoding: bytes, as: UTF8.self), object)
    }

    @Test func carriesEveryFieldOfTheRecord() throws {
        let (_, object) = try line(record(status: 422))
        #expect(object["level"] as? String == "notice")
        #expect(object["logger"] as? String == "justgate")
        #expect(object["message"] as? String == "request")
        #expect(object["client"] as? String == "127.0.0.1")
        #expect(object["duration_ms"] as? Double == 1.234)
        #expect(object["method"] as? String == "POST")
        #expect(object["operation"] as? String == "action.save")
        #expect(object["outcome"] as? String == "rejected_invalid")
        #expect(object["problems"] as? [String] == ["invalid_email", "missing"])
        #expect(object["request_id"] as? String == "req-1")
        #expect(object["site"] as? String == "horoscope-\"daily\"")
        #expect(object["status"] as? Int == 422)
        #expect(object["upstream_status"] as? Int == 200)
        let time = try #require(object["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"))
    }

    @Test func keysComeInTheOrderTheLogHandlerUses() throws {
        let (text, _) = try line(record(status: 200))
        let keys = ["\"time\"", "\"level\"", "\"logger\"", "\"message\"", "\"client\"", "\"duration_ms\"", "\"method\"",
                    "\"operation\"", "\"outcome\"", "\"problems\"", "\"request_id\"", "\"site\"", "\"status\"", "\"upstream_status\""]
        let positions = keys.compactMap { text.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count)
        #expect(positions == positions.sorted())
    }

    @Test func leavesOutWhatTheRecordDoesNotHave() throws {
        let bare = RequestRecord(requestID: "r", method: "GET", path: "/", clientAddress: "::1", receivedAtNanos: 0)
        let (_, object) = try line(bare)
        #expect(object["site"] == nil && object["operation"] == nil && object["problems"] == nil && object["upstream_status"] == nil)
        #expect(object["level"] as? String == "info")
    }

    @Test(arguments: [(200, Logger.Level.info), (404, .notice), (499, .notice), (502, .error)])
    func levelFollowsTheStatus(status: Int, level: Logger.Level) {
        #expect(RequestLog.level(forStatus: status) == level)
    }

    @Test func linesBelowTheThresholdAreNotWritten() throws {
        let path = NSTemporaryDirectory() + "justgate-requestlog-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        let sink = LogSink(fd: fd, flushIntervalMs: 0)
        let quiet = RequestLog(sink: sink, label: "justgate", threshold: .warning)
        quiet.write(record(status: 200))
        quiet.write(record(status: 503))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("\"status\":503"))
    }
}
