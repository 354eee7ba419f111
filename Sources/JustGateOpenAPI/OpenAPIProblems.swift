import JustGateCore

/// The responses every operation shares: the relayed upstream answer and justgate's own RFC 9457
/// problem documents, one response component per ``ProblemKind``.
///
/// Problem kinds are listed exhaustively (a `switch`), so a new kind does not compile until it is
/// described here, and the published `type` URIs, titles and statuses come from ``ProblemKind`` itself.
enum OpenAPIProblems {
    /// The response component name for a kind: its raw value in UpperCamelCase (`invalid-fields` → `InvalidFields`).
    static func componentName(_ kind: ProblemKind) -> String {
        kind.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// Kinds in status order, which is the order responses are listed in; kinds that share a status
    /// keep their declaration order, the general kind first.
    static var kinds: [ProblemKind] {
        ProblemKind.allCases.enumerated().sorted { ($0.element.status, $0.offset) < ($1.element.status, $1.offset) }.map(\.element)
    }

    /// The kinds answered with each status, statuses ascending.
    static var kindsByStatus: [(status: Int, kinds: [ProblemKind])] {
        var groups: [(status: Int, kinds: [ProblemKind])] = []
        for kind in kinds {
            if let last = groups.indices.last, groups[last].status == kind.status {
                groups[last].kinds.append(kind)
            } else {
                groups.append((kind.status, [kind]))
            }
        }
        return groups
    }

    /// The response an operation lists for `status`: the kind's own component, or, when several
    /// kinds share the status, a component that stands for all of them (`Status400`).
    static func statusComponentName(_ kinds: [ProblemKind]) -> String {
        kinds.count == 1 ? componentName(kinds[0]) : "Status\(kinds[0].status)"
    }

    /// When justgate answers with this kind, for the response description.
    static func situation(_ kind: ProblemKind) -> String {
        switch kind {
        case .badRequest: "Malformed HTTP, query string or body (invalid percent-encoding, JSON that is not an object, a multipart body without a boundary)."
        case .unauthorized: "No site key, a key justgate did not issue (an upstream token is not a site key), or an expired key (`detail` names its fingerprint and when it expired)."
        case .notFound: "No operation has this path."
        case .methodNotAllowed: "The operation does not take this method; `Allow` lists those it takes."
        case .requestTimeout: "The head or body did not arrive within the server's timeouts."
        case .payloadTooLarge: "The body is larger than `server.max_body_bytes`, or a multipart part or part count is over its limit."
        case .uriTooLong: "The request line is longer than `server.max_request_line_bytes`."
        case .unsupportedMediaType: "A body that is not `application/x-www-form-urlencoded`, `multipart/form-data` or `application/json`."
        case .invalidFields: "One or more fields are missing or invalid; `errors` lists every problem at once and nothing was sent upstream."
        case .headersTooLarge: "A header line, the headers in total or their count is over the server's limits."
        case .quotaExceeded: "A rate-limit policy of this site refused the request; `policies` names it and `Retry-After` says when to retry."
        case .internalError: "An unexpected gateway error."
        case .notImplemented: "The request uses an HTTP feature justgate does not implement (such as an unknown transfer coding)."
        case .badGateway: "The upstream could not be reached, failed TLS, dropped the connection, or answered with more than `upstream.max_response_bytes`; after the retries that were safe."
        case .unavailable: "The gateway is over `server.max_connections` or `upstream.max_in_flight`, the upstream circuit breaker is open, or Redis is down with `rate_limit.on_backend_error: deny` (or, for a `profile.create` with an `Idempotency-Key`, with `idempotency.backend: redis`); `Retry-After` says when to retry."
        case .gatewayTimeout: "The upstream did not answer within the operation's deadline (`upstream.timeout_ms`, or `operations.<id>.timeout_ms`), retries included."
        case .versionNotSupported: "The request is not HTTP/1.0 or HTTP/1.1."
        case .ambiguousCredentials: "Two different credentials: `X-AUTH-TOKEN` twice, or `X-AUTH-TOKEN` and "
            + "`Authorization: Bearer` with different values. Send the site key once."
        case .tooManyFields: "The request carries more fields, query and body together, than `validation.max_fields` "
            + "(256 unless configured); it is refused before any field is checked."
        case .idempotencyConflict: "`profile.create` only: the first request with this `Idempotency-Key` is still waiting for the upstream; retry after `Retry-After` to get its answer."
        case .idempotencyMismatch: "`profile.create` only: this `Idempotency-Key` was used within `idempotency.ttl_s` for a request with other fields."
        }
    }

    /// Statuses the upstream API itself answers with, which justgate relays as they are (usually `text/plain`).
    static func upstreamAlsoAnswers(_ kind: ProblemKind) -> Bool {
        switch kind {
        case .badRequest, .unauthorized, .notFound, .methodNotAllowed, .invalidFields, .internalError: true
        default: false
        }
    }

    /// Whether an operation can answer with this kind (the idempotency kinds only where `Idempotency-Key` is honoured).
    static func applies(_ kind: ProblemKind, to operation: OperationSpec) -> Bool {
        switch kind {
        case .idempotencyConflict, .idempotencyMismatch: operation.takesIdempotencyKey
        default: true
        }
    }

    /// One response for several kinds of the same status: their situations, headers and schemas.
    static func response(either kinds: [ProblemKind]) -> YAMLTree {
        var headers: [(String, YAMLTree?)] = [("X-Request-Id", .ref("headers", "X-Request-Id"))]
        for kind in kinds {
            for header in extraHeaders(kind) where !headers.contains(where: { $0.0 == header.0 }) { headers.append(header) }
        }
        var content: [(String, YAMLTree?)] = [("application/problem+json", .map([
            ("schema", .map([("oneOf", .sequence(kinds.map(problemSchema(for:))))])),
        ]))]
        var description = kinds.map(situation).joined(separator: " Or: ")
        if kinds.contains(where: upstreamAlsoAnswers) {
            description += " An answer with this status from the upstream itself is relayed unchanged (`text/plain`)."
            content.append(("text/plain", .map([("schema", .map([("type", "string")]))])))
        }
        return .map([("description", .string(description)), ("headers", .map(headers)), ("content", .map(content))])
    }

    /// Headers a kind carries besides `X-Request-Id`.
    static func extraHeaders(_ kind: ProblemKind) -> [(String, YAMLTree?)] {
        switch kind {
        case .unauthorized:
            [("WWW-Authenticate", .map([
                ("description", "`Bearer realm=\"justgate\"`."),
                ("schema", .map([("type", "string")])),
            ]))]
        case .methodNotAllowed:
            [("Allow", .map([
                ("description", "The methods this path takes, comma-separated."),
                ("schema", .map([("type", "string")])),
            ]))]
        case .unavailable, .idempotencyConflict:
            [("Retry-After", .map([
                ("description", "Whole seconds after which a retry may succeed."),
                ("schema", .map([("type", "integer"), ("minimum", 0)])),
            ]))]
        case .quotaExceeded:
            [("Retry-After", .map([
                ("description", "Whole seconds until the request would pass every policy; a retry sooner is refused again."),
                ("schema", .map([("type", "integer"), ("minimum", 0)])),
            ])),
             ("RateLimit-Policy", .map([
                ("description", "The refusing policies, draft-ietf-httpapi-ratelimit-headers-10: `\"name\";q=3;w=3600`."),
                ("schema", .map([("type", "string")])),
             ])),
             ("RateLimit", .map([
                ("description", "Where the client stands: `\"name\";r=0;t=1200` (requests left, seconds until more quota)."),
                ("schema", .map([("type", "string")])),
             ]))]
        default:
            []
        }
    }

    // MARK: - Components

    /// `components/responses`: `Relayed` (the upstream's answer), one per problem kind, and one per
    /// status that several kinds share.
    static func responses() -> YAMLTree {
        var entries: [(String, YAMLTree?)] = [("Relayed", relayed())]
        for kind in kinds {
            entries.append((componentName(kind), response(kind)))
        }
        for group in kindsByStatus where group.kinds.count > 1 {
            entries.append((statusComponentName(group.kinds), sharedStatusResponse(group.kinds)))
        }
        return .map(entries)
    }

    /// One status, several kinds: the problem document is one of the kinds' narrowed schemas.
    private static func sharedStatusResponse(_ kinds: [ProblemKind]) -> YAMLTree {
        var description = kinds.map { "`\($0.rawValue)`: \(situation($0))" }.joined(separator: " ")
        var content: [(String, YAMLTree?)] = [("application/problem+json", .map([
            ("schema", .map([("oneOf", .sequence(kinds.map(problemSchema(for:))))])),
        ]))]
        if kinds.contains(where: upstreamAlsoAnswers) {
            description += " An answer with this status from the upstream itself is relayed unchanged (`text/plain`)."
            content.append(("text/plain", .map([("schema", .map([("type", "string")]))])))
        }
        return .map([
            ("description", .string(description)),
            ("headers", .map([("X-Request-Id", .ref("headers", "X-Request-Id"))] + kinds.flatMap(extraHeaders))),
            ("content", .map(content)),
        ])
    }

    private static func relayed() -> YAMLTree {
        .map([
            ("description", .string("The upstream's answer, relayed unchanged: status, body and `Content-Type` (should the upstream "
                + "ever echo the site's upstream token, it is replaced by `[redacted]`; a status outside 100–599 is answered "
                + "with `BadGateway` instead). The Just Services API "
                + "answers with `text/plain` (messages, a new juid) or `application/json` (segments, statistics).")),
            ("headers", .map([("X-Request-Id", .ref("headers", "X-Request-Id"))])),
            ("content", .map([
                ("text/plain", .map([("schema", .map([("type", "string")]))])),
                ("application/json", .map([("schema", .mapping([]))])),
            ])),
        ])
    }

    private static func response(_ kind: ProblemKind) -> YAMLTree {
        var description = situation(kind)
        var content: [(String, YAMLTree?)] = [("application/problem+json", .map([
            ("schema", problemSchema(for: kind)),
            ("example", kind == .invalidFields ? invalidFieldsExample() : nil),
        ]))]
        if upstreamAlsoAnswers(kind) {
            description += " An answer with this status from the upstream itself is relayed unchanged (`text/plain`)."
            content.append(("text/plain", .map([("schema", .map([("type", "string")]))])))
        }
        return .map([
            ("description", .string(description)),
            ("headers", .map([("X-Request-Id", .ref("headers", "X-Request-Id"))] + extraHeaders(kind))),
            ("content", .map(content)),
        ])
    }

    /// `Problem` narrowed to one kind: its `type`, `title` and `status` fixed; `errors` required for 422.
    static func problemSchema(for kind: ProblemKind) -> YAMLTree {
        .map([("allOf", .sequence([
            .ref("schemas", "Problem"),
            .map([
                ("type", "object"),
                ("required", kind == .invalidFields ? .strings(["errors"]) : nil),
                ("properties", .map([
                    ("type", .map([("const", .string(kind.typeURI))])),
                    ("title", .map([("const", .string(kind.title))])),
                    ("status", .map([("const", .integer(kind.status))])),
                ])),
            ]),
        ]))])
    }

    private static func invalidFieldsExample() -> YAMLTree {
        .map([
            ("type", .string(ProblemKind.invalidFields.typeURI)),
            ("title", .string(ProblemKind.invalidFields.title)),
            ("status", .integer(ProblemKind.invalidFields.status)),
            ("detail", "2 fields are invalid for subscribe.email; nothing was sent upstream."),
            ("request_id", "5e0c2b7a9d1f4e3c8a6b0d2f4e6a8c0b"),
            ("errors", .sequence([
                .map([("field", "juid"), ("code", .string(ProblemCode.invalidJUID)),
                      ("message", "expected 32 hex digits like de6f0132ea9e412599ae31262c45633b (dashes as in a UUID are allowed); got \"nope\"")]),
                .map([("field", "email"), ("code", .string(ProblemCode.invalidEmail)),
                      ("message", "expected an e-mail address like name@example.com; the part after @ is empty")]),
            ])),
        ])
    }

    /// `components/schemas` entries: `Problem`, `FieldProblem` and `ProblemCode`.
    static func schemas() -> [(String, YAMLTree?)] {
        [
            ("Problem", .map([
                ("type", "object"),
                ("description", .string("An RFC 9457 problem document: every error justgate itself produces has this shape. "
                    + "Act on `type` and on the `code` of each entry in `errors`; `detail` and `message` are for people.")),
                ("required", .strings(["type", "title", "status", "detail", "request_id"])),
                ("properties", .map([
                    ("type", .map([
                        ("type", "string"),
                        ("enum", .strings(kinds.map(\.typeURI))),
                        ("description", "Stable URI of the problem kind; never renamed."),
                    ])),
                    ("title", .map([("type", "string"), ("description", "Short summary of the kind; fixed per `type`.")])),
                    ("status", .map([("type", "integer"), ("minimum", 400), ("maximum", 599),
                                     ("description", "The HTTP status of the response.")])),
                    ("detail", .map([("type", "string"), ("description", "What went wrong with this request and what to do.")])),
                    ("request_id", .map([("type", "string"), ("pattern", .string(OpenAPIPatterns.requestID)),
                                         ("description", "The request's id, also sent in `X-Request-Id`.")])),
                    ("errors", .map([("type", "array"), ("items", .ref("schemas", "FieldProblem")),
                                     ("maxItems", .integer(ProblemCollector.defaultLimit)),
                                     ("description", .string("Every field problem, for `invalid-fields`, up to \(ProblemCollector.defaultLimit) "
                                        + "and a \(ProblemDetails.maxBodyBytes / 1024) KiB body; absent otherwise."))])),
                    ("errors_truncated", .map([("type", "integer"), ("minimum", 1),
                                               ("description", "How many further field problems were found but not listed in `errors`.")])),
                    ("policies", .map([("type", "array"), ("items", .map([("type", "string")])),
                                       ("description", "The rate-limit policies that refused the request, for `quota-exceeded`.")])),
                ])),
            ])),
            ("FieldProblem", .map([
                ("type", "object"),
                ("description", "One thing wrong with one field, phrased so a site developer can fix the request."),
                ("required", .strings(["field", "code", "message"])),
                ("properties", .map([
                    ("field", .map([("type", "string"),
                                    ("description", "The field as the caller named it, or `data.email` for a member of `data`.")])),
                    ("code", .ref("schemas", "ProblemCode")),
                    ("message", .map([("type", "string"),
                                      ("description", "What was expected; echoes at most a short, escaped prefix of the input.")])),
                ])),
            ])),
            ("ProblemCode", .map([
                ("type", "string"),
                ("enum", .strings(ProblemCode.all)),
                ("description", .string("A stable machine-readable code. Codes are never renamed or reused, but new ones may be "
                    + "added: treat an unknown code like a generic invalid value.")),
            ])),
        ]
    }

    /// `components/headers`: the request id every response carries.
    static func headers() -> YAMLTree {
        .map([("X-Request-Id", .map([
            ("description", .string("The request's id: the caller's own `X-Request-Id` when it was 1 to 128 characters of "
                + "`[A-Za-z0-9._:-]` and not a site key or upstream token, otherwise one justgate made. It is also sent "
                + "upstream and logged.")),
            ("schema", .map([("type", "string"), ("pattern", .string(OpenAPIPatterns.requestID))])),
        ]))])
    }
}
