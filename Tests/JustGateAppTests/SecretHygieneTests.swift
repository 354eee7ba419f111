import Foundation
import JustGateApp
import JustGateCore
import Logging
import Testing

/// Secrets through the logging path, and how much of a client's input an error may echo.
@Suite(.serialized)
struct SecretHygieneTests {
    @Test func aSecretLoggedAsMetadataIsRedacted() throws {
        let path = NSTemporaryDirectory() + "justgate-redaction-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = open(path, O_WRONLY | O_APPEND)
        let sink = LogSink(fd: handle, flushIntervalMs: 0)
        let logger = Logger(label: "redaction") { JSONLogHandler(label: $0, sink: sink) }
        let secret = Secret("very-secret-upstream-token")
        logger.info("token in metadata", metadata: [
            "as_convertible": .stringConvertible(secret),
            "as_string": .string("\(secret)"),
            "nested": .dictionary(["token": .stringConvertible(secret)]),
            "listed": .array([.stringConvertible(secret)]),
        ])
        logger.info("token in the message: \(secret)")
        close(handle)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("very-secret-upstream-token"))
        #expect(text.components(separatedBy: "<redacted>").count - 1 == 5)
    }

    @Test func errorBodiesEchoOnlyShortEscapedExcerpts() throws {
        let gateway = try GatewayFixture()
        let longName = String(repeating: "n", count: 500)
        let response = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                        body: "\(longName)=1&juid=\(String(repeating: "j", count: 400))&label=%07bell&tags=a")
        #expect(response.status == 422)
        #expect(!response.text.contains(String(repeating: "n", count: 40)))
        #expect(!response.text.contains(String(repeating: "j", count: 40)))
        #expect(!response.text.contains("\u{07}"))
        let path = "/api/" + String(repeating: "p", count: 2000)
        let notFound = try gateway.send("GET", path)
        #expect(notFound.status == 404)
        #expect(!notFound.text.contains(String(repeating: "p", count: 40)))
    }
}
