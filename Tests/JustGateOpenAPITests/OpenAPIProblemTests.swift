import Foundation
import Testing
@testable import JustGateCore
@testable import JustGateOpenAPI

@Suite("OpenAPI problem responses")
struct OpenAPIProblemTests {
    /// The string constants declared in `enum ProblemCode`, read from its source file.
    static func declaredProblemCodes(filePath: String = #filePath) throws -> [String] {
        let url = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/JustGateCore/Validation/FieldProblem.swift")
        let source = try String(contentsOf: url, encoding: .utf8)
        guard let start = source.range(of: "public enum ProblemCode") else { return [] }
        let regex = try NSRegularExpression(pattern: #"static let \w+ = "([^"]+)""#)
        let body = String(source[start.upperBound...])
        return regex.matches(in: body, range: NSRange(body.startIndex..., in: body)).compactMap { match in
            Range(match.range(at: 1), in: body).map { String(body[$0]) }
        }
    }

    @Test("ProblemCode.all lists every code declared in FieldProblem.swift, in order")
    func allCodesListed() throws {
        let declared = try Self.declaredProblemCodes()
        #expect(declared.count >= 25)
        #expect(ProblemCode.all == declared)
    }

    @Test("FieldProblem.code is an enum of every problem code")
    func codeEnum() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let schema = try #require(document.resolve("#/components/schemas/ProblemCode"))
        #expect(schema["enum"] as? [String] == ProblemCode.all)
        let fieldProblem = try #require(document.resolve("#/components/schemas/FieldProblem"))
        #expect((fieldProblem["required"] as? [String])?.sorted() == ["code", "field", "message"])
    }

    @Test("the Problem schema has the RFC 9457 members justgate writes")
    func problemShape() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let problem = try #require(document.resolve("#/components/schemas/Problem"))
        let properties = try #require(problem["properties"] as? [String: Any])
        #expect(properties.keys.sorted() == ["detail", "errors", "errors_truncated", "policies", "request_id", "status", "title", "type"])
        #expect((problem["required"] as? [String])?.sorted() == ["detail", "request_id", "status", "title", "type"])
        let type = try #require(properties["type"] as? [String: Any])
        #expect(Set(type["enum"] as? [String] ?? []) == Set(ProblemKind.allCases.map(\.typeURI)))
    }

    @Test("each problem kind's response fixes its type, title and status", arguments: ProblemKind.allCases)
    func kindResponse(kind: ProblemKind) throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let response = try #require(document.resolve("#/components/responses/\(OpenAPIProblems.componentName(kind))"))
        let content = try #require(response["content"] as? [String: Any])
        let media = try #require(content["application/problem+json"] as? [String: Any])
        let schema = try #require(media["schema"] as? [String: Any])
        let parts = try #require(schema["allOf"] as? [[String: Any]])
        #expect(parts.first?["$ref"] as? String == "#/components/schemas/Problem")
        let narrowed = try #require(parts.last?["properties"] as? [String: Any])
        #expect((narrowed["type"] as? [String: Any])?["const"] as? String == kind.typeURI)
        #expect((narrowed["title"] as? [String: Any])?["const"] as? String == kind.title)
        #expect((narrowed["status"] as? [String: Any])?["const"] as? Int == kind.status)
        let requiresErrors = (parts.last?["required"] as? [String]) == ["errors"]
        #expect(requiresErrors == (kind == .invalidFields))

        // Every operation lists the kinds it can answer with; the idempotency kinds are profile.create's.
        let subscribe = try #require(Catalogue.standardOperations.first { $0.id == "subscribe.email" })
        let operationID = OpenAPIProblems.applies(kind, to: subscribe) ? "subscribe.email" : "profile.create"
        let operation = try #require(document.operations.first { $0.operationID == operationID })
        let responses = try #require(operation.object["responses"] as? [String: Any])
        let entry = try #require(responses[String(kind.status)] as? [String: Any])
        if let reference = entry["$ref"] as? String, reference.hasSuffix("/\(OpenAPIProblems.componentName(kind))") {
            // The kind's own response.
        } else {
            // Several kinds answer this status: one response (shared, or inline for this operation)
            // whose schema is one of them, this kind among them.
            var shared = entry
            if let reference = entry["$ref"] as? String {
                shared = try #require(document.resolve(reference))
            }
            let sharedMedia = try #require((shared["content"] as? [String: Any])?["application/problem+json"] as? [String: Any])
            let alternatives = try #require((sharedMedia["schema"] as? [String: Any])?["oneOf"] as? [[String: Any]])
            let types = alternatives.compactMap { alternative -> String? in
                let narrowed = (alternative["allOf"] as? [[String: Any]])?.last?["properties"] as? [String: Any]
                return (narrowed?["type"] as? [String: Any])?["const"] as? String
            }
            #expect(types.contains(kind.typeURI))
            #expect(types.count > 1)
        }
    }

    @Test("401 names WWW-Authenticate, 405 Allow, and 429 Retry-After and the RateLimit fields")
    func extraHeaders() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let quota = try #require(document.resolve("#/components/responses/QuotaExceeded"))
        #expect((quota["headers"] as? [String: Any]).map { Set($0.keys) }
                == ["X-Request-Id", "Retry-After", "RateLimit-Policy", "RateLimit"])
        let unauthorized = try #require(document.resolve("#/components/responses/Unauthorized"))
        #expect((unauthorized["headers"] as? [String: Any])?["WWW-Authenticate"] != nil)
        let notAllowed = try #require(document.resolve("#/components/responses/MethodNotAllowed"))
        #expect((notAllowed["headers"] as? [String: Any])?["Allow"] != nil)
    }

    @Test("the 200 answer is the relayed upstream answer, text or JSON")
    func relayed() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let relayed = try #require(document.resolve("#/components/responses/Relayed"))
        let content = try #require(relayed["content"] as? [String: Any])
        #expect(content.keys.sorted() == ["application/json", "text/plain"])
    }
}
