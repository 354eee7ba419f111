import JustGateCore

/// The `paths` of the document and the per-operation request schemas, built from the catalogue.
///
/// Every route of an operation shares one request schema (`<Id>Request`), used for the three body
/// media types of POST and PUT and unfolded into query parameters for GET, so an alias can never
/// describe different fields from its canonical operation.
enum OpenAPIOperations {
    /// The body media types justgate decodes, in the order they are listed.
    static let bodyMediaTypes = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]

    /// `paths`: one path item per canonical or alias path.
    static func paths(_ catalogue: Catalogue) -> YAMLTree {
        .map(OpenAPIRoute.grouped(OpenAPIRoute.routes(of: catalogue)).map { group in
            (group.path, .map(group.routes.map { route in (route.method.lowercased(), operation(route)) }))
        })
    }

    private static func operation(_ route: OpenAPIRoute) -> YAMLTree {
        let spec = route.operation
        var parameters: [YAMLTree] = []
        if let parameter = spec.pathParameter { parameters.append(self.parameter(parameter, in: "path")) }
        if route.takesQuery { parameters += spec.fields.map { self.parameter($0, in: "query") } }
        parameters.append(.ref("parameters", "X-Request-Id"))
        if spec.takesIdempotencyKey { parameters.append(.ref("parameters", "Idempotency-Key")) }
        parameters += OpenAPIDeferral.parameters(for: spec)
        return .map([
            ("tags", .strings([OpenAPIRoute.tag(spec)])),
            ("summary", .string(spec.summary)),
            ("description", .string(description(route))),
            ("operationId", .string(route.operationID)),
            ("x-justgate-alias-of", route.aliasOf.map(YAMLTree.string)),
            ("x-justgate-forwarded-as", .map([("method", .string(spec.method)), ("path", .string(spec.path))])),
            ("parameters", .sequence(parameters)),
            ("requestBody", route.takesQuery ? nil : requestBody(spec)),
            ("responses", responses(spec)),
        ])
    }

    private static func description(_ route: OpenAPIRoute) -> String {
        let spec = route.operation
        var paragraphs: [String] = []
        if let canonical = route.aliasOf {
            paragraphs.append("Alias of `\(canonical)`: the upstream reference also uses this method and path, so justgate "
                + "accepts it and forwards the call in the canonical form.")
        }
        let forwarded = spec.forwardsAsQuery ? "the query string" : "a urlencoded body"
        let parameter = spec.pathParameter.map { " (`{\($0.name)}` normalised)" } ?? ""
        paragraphs.append("Forwarded upstream as `\(spec.method) \(spec.path)`\(parameter) with the normalised fields in \(forwarded).")
        paragraphs.append(route.takesQuery
            ? "Send the fields in the query string."
            : "Send the fields as a urlencoded, multipart or JSON body; fields in the query string are read too.")
        for range in spec.ranges {
            paragraphs.append("`\(range.start)` must not be after `\(range.end)` (`\(ProblemCode.reversedRange)`).")
        }
        return paragraphs.joined(separator: "\n\n")
    }

    /// A path or query parameter for one field, its schema the shared rule schema.
    private static func parameter(_ field: FieldSpec, in location: String) -> YAMLTree {
        .map([
            ("name", .string(field.name)),
            ("in", .string(location)),
            ("required", .bool(field.required || location == "path")),
            ("description", .string(fieldDescription(field))),
            ("schema", fieldSchema(field.rule)),
        ])
    }

    private static func requestBody(_ spec: OperationSpec) -> YAMLTree {
        let schema = YAMLTree.ref("schemas", OpenAPIRoute.requestSchemaName(spec))
        return .map([
            ("description", .string("The fields of `\(spec.id)`, in any of the three encodings.")),
            ("required", .bool(spec.fields.contains(where: \.required))),
            ("content", .map(bodyMediaTypes.map { ($0, .map([("schema", schema)])) })),
        ])
    }

    /// `200` and `default` are the relayed upstream answer (and `202` the deferral, where a site may defer the
    /// operation); every problem kind the operation can
    /// answer with has its status. A status several kinds share points at the shared response when
    /// the operation can answer all of them, and otherwise lists the ones it can (422 on
    /// `profile.create` is invalid fields or a reused `Idempotency-Key`).
    private static func responses(_ spec: OperationSpec) -> YAMLTree {
        var entries: [(String, YAMLTree?)] = [("200", .ref("responses", "Relayed"))] + OpenAPIDeferral.responses(for: spec)
        let kinds = OpenAPIProblems.kinds.filter { OpenAPIProblems.applies($0, to: spec) }
        let everyKindOf = Dictionary(OpenAPIProblems.kindsByStatus.map { ($0.status, $0.kinds) }, uniquingKeysWith: { first, _ in first })
        var index = 0
        while index < kinds.count {
            let status = kinds[index].status
            let group = Array(kinds[index...].prefix { $0.status == status })
            index += group.count
            let entry: YAMLTree
            if group.count == 1 {
                entry = .ref("responses", OpenAPIProblems.componentName(group[0]))
            } else if everyKindOf[status] == group {
                entry = .ref("responses", OpenAPIProblems.statusComponentName(group))
            } else {
                entry = OpenAPIProblems.response(either: group)
            }
            entries.append((String(status), entry))
        }
        entries.append(("default", .ref("responses", "Relayed")))
        return .map(entries)
    }

    // MARK: - Schemas

    /// The field's summary followed by what justgate does to the value.
    static func fieldDescription(_ field: FieldSpec) -> String {
        field.summary.isEmpty ? field.rule.openAPINormalisation : "\(field.summary) \(field.rule.openAPINormalisation)"
    }

    /// A `$ref` to the rule's shared schema, or the rule's schema itself when it is not shared (channel).
    static func fieldSchema(_ rule: FieldRule) -> YAMLTree {
        rule.openAPIComponentName.map { .ref("schemas", $0) } ?? rule.openAPISchema
    }

    /// `<Id>Request` for every operation: its fields as properties, with `required` when any is.
    static func requestSchemas(_ catalogue: Catalogue) -> [(String, YAMLTree?)] {
        catalogue.operations.map { spec in
            let required = spec.fields.filter(\.required).map(\.name)
            let properties = spec.fields.map { field in
                (field.name, fieldSchema(field.rule).adding([("description", .string(fieldDescription(field)))]))
            }
            return (OpenAPIRoute.requestSchemaName(spec), .map([
                ("type", "object"),
                ("description", .string("The fields of `\(spec.id)`. Unknown fields are refused (`\(ProblemCode.unknownField)`) "
                    + "unless the gateway runs with `validation.unknown_fields: drop`.")),
                ("required", required.isEmpty ? nil : .strings(required)),
                ("properties", .map(properties)),
                ("additionalProperties", false),
            ]))
        }
    }

    /// Rules with a shared schema, in the order their schemas are listed; all are listed whether or not
    /// the catalogue uses them, since `UTMDataObject` refers to `Email`, `Phone` and `Text`.
    static let sharedRules: [FieldRule] = [
        .juid, .email, .phone, .ip, .name, .gender, .birthDate, .unixTimestamp, .dateTime, .tags, .label, .article,
        .url, .text, .utmData,
    ]

    /// The shared rule schemas, then the object inside `UTMData`.
    static func ruleSchemas() -> [(String, YAMLTree?)] {
        sharedRules.compactMap { rule in rule.openAPIComponentName.map { ($0, rule.openAPISchema) } }
            + [("UTMDataObject", FieldRule.openAPIUTMDataObject)]
    }
}
