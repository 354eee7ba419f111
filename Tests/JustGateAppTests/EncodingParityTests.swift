import Foundation
import Testing

/// A site's JSON, urlencoded and multipart bodies must give the same problems for the same values.
@Suite(.serialized)
struct EncodingParityTests {
    static let badValues: [KeyValuePairs<String, String>] = [
        ["juid": "xyz", "email": "a@b", "refid": String(repeating: "r", count: 300)],
        ["juid": "DE6F0132-EA9E-4125-99AE-31262C45633B", "email": "two@@at.com", "utmSource": "\u{7}bell"],
        ["email": "ok@example.com", "regUrl": "ftp://example.com/x"],
    ]

    @Test(arguments: 0..<3)
    func sameProblemsInEveryEncoding(index: Int) throws {
        let gateway = try GatewayFixture()
        let fields = EncodingParityTests.badValues[index]
        var seen: [[[String: String]]] = []
        for encoding in ["urlencoded", "multipart", "json"] {
            let (type, body) = Encodings.body(encoding, fields)
            let response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: type, body: body)
            #expect(response.status == 422, "\(encoding): \(response.text)")
            seen.append(try #require(response.json?["errors"] as? [[String: String]]))
        }
        #expect(seen[0] == seen[1])
        #expect(seen[1] == seen[2])
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }
}
