import Foundation
import Testing
@testable import JustGateCore
@testable import JustGateOpenAPI

/// Store and forward in the contract (issue 25): every operation a site may defer lists the 202 and `Prefer`,
/// the others do not, and `GET /justgate/v1/deliveries/{id}` is described with its answers.
@Suite("OpenAPI deferral")
struct OpenAPIDeferralTests {
    @Test("operations a site may defer answer 202 and take Prefer; the others do not")
    func deferrableOperationsList202() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let paths = try #require(document.root["paths"] as? [String: Any])
        let catalogue = Catalogue()
        var seen = 0
        for (_, item) in paths {
            for (_, value) in (item as? [String: Any]) ?? [:] {
                guard let operation = value as? [String: Any], let id = operation["operationId"] as? String,
                      let spec = catalogue.operations.filter({ id == $0.id || id.hasPrefix($0.id + ".") })
                          .max(by: { $0.id.count < $1.id.count }) else { continue }
                let responses = operation["responses"] as? [String: Any] ?? [:]
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).compactMap { $0["$ref"] as? String }
                #expect((responses["202"] != nil) == spec.deferral.mayDefer, "\(id)")
                #expect(parameters.contains("#/components/parameters/Prefer") == spec.deferral.mayDefer, "\(id)")
                seen += 1
            }
        }
        #expect(seen >= catalogue.operations.count)
    }

    @Test("GET /justgate/v1/deliveries/{id} is described with 200, 401 and 404")
    func deliveriesEndpoint() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let paths = try #require(document.root["paths"] as? [String: Any])
        let item = try #require(paths["/justgate/v1/deliveries/{id}"] as? [String: Any])
        let get = try #require(item["get"] as? [String: Any])
        let responses = try #require(get["responses"] as? [String: Any])
        #expect(Set(responses.keys).isSuperset(of: ["200", "401", "404"]))
        let schemas = try #require((document.root["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let status = try #require(schemas["DeliveryStatus"] as? [String: Any])
        #expect((status["required"] as? [String]) == ["id", "state", "attempts", "next_attempt_at", "upstream_status", "upstream_body"])
    }
}
