import Foundation
import Testing
@testable import JustGateCore
@testable import JustGateOpenAPI

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    static let regenerate = "docs/openapi.yaml is out of date; regenerate it with `swift run justgate openapi > docs/openapi.yaml`"

    @Test("the checked-in docs/openapi.yaml is exactly the generated document")
    func checkedInCopyIsCurrent() throws {
        let url = checkedInOpenAPIURL()
        guard let checkedIn = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("\(url.path) is missing; \(Self.regenerate)")
            return
        }
        guard checkedIn != generatedOpenAPI else { return }
        let old = checkedIn.split(separator: "\n", omittingEmptySubsequences: false)
        let new = generatedOpenAPI.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(old, new).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(old.count, new.count)
        let was = line < old.count ? String(old[line]) : "<end of file>"
        let now = line < new.count ? String(new[line]) : "<end of file>"
        Issue.record("\(Self.regenerate). First difference at line \(line + 1): checked in \(was.debugDescription), generated \(now.debugDescription)")
    }

    @Test("generating twice gives the same text")
    func deterministic() {
        #expect(OpenAPIDocument.yaml(version: "0.1.0") == OpenAPIDocument.yaml(version: "0.1.0"))
    }

    @Test("the document parses as YAML with string keys and declares OpenAPI 3.1")
    func parsesAsOpenAPI31() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let version = try #require(document.root["openapi"] as? String)
        #expect(version.hasPrefix("3.1."))
        let info = try #require(document.root["info"] as? [String: Any])
        #expect(info["version"] as? String == "0.1.0")
        #expect(info["title"] as? String == "justgate")
        #expect(generatedOpenAPI.hasSuffix("\n"))
    }

    @Test("info.version is the version passed in, written as a string")
    func versionIsAString() throws {
        let document = try ParsedOpenAPI(OpenAPIDocument.yaml(version: "2"))
        let info = try #require(document.root["info"] as? [String: Any])
        #expect(info["version"] as? String == "2")
    }

    @Test("every $ref resolves to an object in the document")
    func referencesResolve() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let references = document.references
        #expect(references.count > 100)
        for reference in Set(references) {
            #expect(document.resolve(reference) != nil, "\(reference) does not resolve")
        }
    }

    @Test("operationIds are unique")
    func operationIDsAreUnique() throws {
        let ids = try ParsedOpenAPI(generatedOpenAPI).operations.compactMap(\.operationID)
        #expect(ids.count == Set(ids).count)
        // Every route of the catalogue, and the gateway's own GET /justgate/v1/deliveries/{id}.
        #expect(ids.count == OpenAPIRoute.routes(of: Catalogue()).count + 1)
    }

    @Test("every operation is under the site-key security and answers with X-Request-Id in every response")
    func securityAndRequestID() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let security = try #require(document.root["security"] as? [[String: Any]])
        #expect(security.flatMap(\.keys).sorted() == ["siteKey", "siteKeyBearer"])
        let schemes = try #require(document.resolve("#/components/securitySchemes"))
        let siteKey = try #require(schemes["siteKey"] as? [String: Any])
        #expect(siteKey["type"] as? String == "apiKey")
        #expect(siteKey["in"] as? String == "header")
        #expect(siteKey["name"] as? String == "X-AUTH-TOKEN")
        let bearer = try #require(schemes["siteKeyBearer"] as? [String: Any])
        #expect(bearer["type"] as? String == "http")
        #expect(bearer["scheme"] as? String == "bearer")

        for operation in document.operations {
            let responses = try #require(operation.object["responses"] as? [String: Any])
            // The gateway's own endpoint (deliveries) answers what it answers; forwarded operations all the rest.
            let own = operation.path.hasPrefix("/justgate/")
            let expected = own ? ["200", "401", "404", "405"]
                : ["200", "400", "401", "404", "405", "413", "415", "422", "429", "502", "504", "default"]
            for status in expected {
                let entry = try #require(responses[status] as? [String: Any], "\(operation.path) \(operation.method) has no \(status)")
                let response = try #require(document.dereferenced(entry))
                let headers = response["headers"] as? [String: Any] ?? [:]
                #expect(headers["X-Request-Id"] != nil, "\(status) of \(operation.path) lacks X-Request-Id")
            }
        }
    }

    @Test("a catalogue whose forwarding method is overridden keeps the id on the new canonical method")
    func overriddenCatalogue() throws {
        let catalogue = Catalogue().overriding(["unsubscribe.email": (method: "POST", path: nil)])
        let document = try ParsedOpenAPI(OpenAPIDocument.yaml(catalogue: catalogue, version: "0.1.0"))
        let unsubscribe = document.operations.filter { $0.path == "/api/user/v1/subscription/unsubscribe/email" }
        let byMethod = Dictionary(unsubscribe.map { ($0.method, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byMethod["POST"]?.operationID == "unsubscribe.email")
        #expect(byMethod["POST"]?.aliasOf == nil)
        #expect(byMethod["PUT"]?.operationID == "unsubscribe.email.put")
        #expect(byMethod["PUT"]?.aliasOf == "unsubscribe.email")
    }
}
