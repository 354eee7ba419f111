import Testing
@testable import JustGateCore
@testable import JustGateOpenAPI

/// Every operation, method, path and field of the catalogue is in the document, as a client reads it.
@Suite("OpenAPI document covers the catalogue")
struct OpenAPICatalogueCoverageTests {
    static let operationIDs = Catalogue.standardOperations.map(\.id)

    static func spec(_ id: String) throws -> OperationSpec {
        try #require(Catalogue().operation(id: id))
    }

    @Test("the canonical method and path carry the catalogue id", arguments: operationIDs)
    func canonicalOperation(id: String) throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let spec = try Self.spec(id)
        let matches = document.operations.filter { $0.operationID == id }
        #expect(matches.count == 1)
        let operation = try #require(matches.first)
        #expect(operation.path == spec.path)
        #expect(operation.method == spec.method)
        #expect(operation.aliasOf == nil)
        #expect(operation.object["summary"] as? String == spec.summary)
    }

    @Test("every accepted method on every alias path is an operation marked as an alias", arguments: operationIDs)
    func aliases(id: String) throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let spec = try Self.spec(id)
        for path in [spec.path] + spec.aliasPaths {
            for method in spec.acceptedMethods {
                let found = document.operations.filter { $0.path == path && $0.method == method }
                #expect(found.count == 1, "\(method) \(path) of \(id) is missing")
                guard let operation = found.first else { continue }
                let canonical = path == spec.path && method == spec.method
                #expect(operation.aliasOf == (canonical ? nil : id), "\(method) \(path)")
                let forwarded = operation.object["x-justgate-forwarded-as"] as? [String: Any]
                #expect(forwarded?["method"] as? String == spec.method)
                #expect(forwarded?["path"] as? String == spec.path)
            }
        }
        let routes = document.operations.filter { $0.aliasOf == id || $0.operationID == id }
        #expect(routes.count == (1 + spec.aliasPaths.count) * spec.acceptedMethods.count)
    }

    @Test("every field appears with its required flag and its rule", arguments: operationIDs)
    func fields(id: String) throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let spec = try Self.spec(id)
        for operation in document.operations where operation.operationID == id || operation.aliasOf == id {
            let parameters = try (operation.object["parameters"] as? [[String: Any]] ?? []).map {
                try #require(document.dereferenced($0))
            }
            if let pathParameter = spec.pathParameter {
                let declared = try #require(parameters.first { $0["in"] as? String == "path" })
                #expect(declared["name"] as? String == pathParameter.name)
                #expect(declared["required"] as? Bool == true)
                let schema = try #require(declared["schema"] as? [String: Any])
                guard case .channel(let allowed) = pathParameter.rule else {
                    Issue.record("\(id): the path parameter is not a channel")
                    continue
                }
                #expect(schema["enum"] as? [String] == allowed)
                #expect(schema["x-justgate-rule"] as? String == "channel")
            }
            let query = parameters.filter { $0["in"] as? String == "query" }
            if operation.method == "GET" {
                #expect(operation.object["requestBody"] == nil)
                #expect(query.compactMap { $0["name"] as? String } == spec.fields.map(\.name))
                for field in spec.fields {
                    let parameter = try #require(query.first { $0["name"] as? String == field.name })
                    #expect(parameter["required"] as? Bool == field.required, "\(id).\(field.name)")
                    try expectRule(field, schema: parameter["schema"], in: document)
                }
            } else {
                #expect(query.isEmpty)
                try expectBody(spec, operation: operation, in: document)
            }
        }
    }

    private func expectBody(_ spec: OperationSpec, operation: ParsedOpenAPI.Operation, in document: ParsedOpenAPI) throws {
        let body = try #require(operation.object["requestBody"] as? [String: Any])
        #expect(body["required"] as? Bool == spec.fields.contains(where: \.required))
        let content = try #require(body["content"] as? [String: Any])
        #expect(content.keys.sorted() == ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"])
        let references = content.values.compactMap { (($0 as? [String: Any])?["schema"] as? [String: Any])?["$ref"] as? String }
        #expect(Set(references).count == 1, "the three media types share one schema")
        let schema = try #require(references.first.flatMap(document.resolve))
        let properties = try #require(schema["properties"] as? [String: Any])
        #expect(properties.keys.sorted() == spec.fields.map(\.name).sorted())
        let required = schema["required"] as? [String] ?? []
        #expect(required == spec.fields.filter(\.required).map(\.name))
        for field in spec.fields {
            let property = try #require(properties[field.name] as? [String: Any])
            let description = property["description"] as? String ?? ""
            #expect(description.hasPrefix(field.summary), "\(spec.id).\(field.name)")
            try expectRule(field, schema: property, in: document)
        }
    }

    /// The field's schema, followed through its `$ref`, names the field's rule.
    private func expectRule(_ field: FieldSpec, schema: Any?, in document: ParsedOpenAPI) throws {
        let inline = try #require(schema as? [String: Any], "\(field.name) has no schema")
        let resolved = try #require(document.dereferenced(inline), "\(field.name): \(inline) does not resolve")
        #expect(resolved["x-justgate-rule"] as? String == field.rule.openAPIRuleName, "\(field.name)")
    }

    @Test("GET operations describe their fields as query parameters, POST and PUT as bodies")
    func queryVersusBody() throws {
        let document = try ParsedOpenAPI(generatedOpenAPI)
        let segmentsPost = try #require(document.operations.first { $0.operationID == "segments.get.post" })
        #expect(segmentsPost.object["requestBody"] != nil)
        let segmentsGet = try #require(document.operations.first { $0.operationID == "segments.get" })
        #expect(segmentsGet.object["requestBody"] == nil)
    }
}
