import JustGateCore

/// The site-facing API as an OpenAPI 3.1 document, generated from the operation catalogue.
///
/// Site developers and their tooling need a contract they can read and generate clients from; writing
/// it by hand would let it drift from the catalogue and the rules the gateway actually applies. The
/// text is deterministic (fixed order, one spelling per value), so the checked-in `docs/openapi.yaml`
/// can be compared with it byte for byte and regenerated with `swift run justgate openapi`.
public enum OpenAPIDocument {
    /// The OpenAPI version written in the `openapi` field.
    public static let openAPIVersion = "3.1.0"

    /// The document as YAML text, ending in a newline. `version` is the gateway's version (`info.version`).
    public static func yaml(catalogue: Catalogue = Catalogue(), version: String) -> String {
        YAMLEmitter.document(tree(catalogue: catalogue, version: version))
    }

    static func tree(catalogue: Catalogue, version: String) -> YAMLTree {
        .map([
            ("openapi", .string(openAPIVersion)),
            ("info", info(version: version)),
            ("servers", .sequence([.map([
                ("url", "http://127.0.0.1:8080"),
                ("description", "justgate's default `listen` address; use your deployment's."),
            ])])),
            ("security", .sequence([.map([("siteKey", .sequence([]))]), .map([("siteKeyBearer", .sequence([]))])])),
            ("tags", .sequence((tags(catalogue) + ["deliveries"]).map { .map([("name", .string($0))]) })),
            ("paths", OpenAPIOperations.paths(catalogue).adding([OpenAPIDeferral.deliveryPathItem()])),
            ("components", components(catalogue)),
        ])
    }

    private static func info(version: String) -> YAMLTree {
        .map([
            ("title", "justgate"),
            ("summary", "A validating gateway in front of the Just Services profiles API."),
            ("description", .string(overview)),
            ("version", .string(version)),
        ])
    }

    /// The rules that hold for every operation, so the per-operation text can stay short.
    private static let overview = """
        The site-facing API of justgate. Sites call the same paths with the same bodies they used to send to the Just \
        Services profiles API, but with a site key issued by justgate instead of the upstream token. justgate \
        validates and normalises every field, injects the site's real `X-AUTH-TOKEN` and forwards one canonical call; \
        the upstream's answer is relayed unchanged.

        - Send the site key in `X-AUTH-TOKEN` or as `Authorization: Bearer <key>`.
        - Trailing slashes in paths are optional.
        - POST and PUT take the fields as `application/x-www-form-urlencoded`, `multipart/form-data` or a JSON object, \
        and the query string is read too; GET takes them in the query string. In a JSON object, numbers and booleans \
        count as their literal text, nested objects and arrays as compact JSON, and `null` as absent.
        - Schemas describe a value after surrounding whitespace is trimmed; a blank value counts as absent, except \
        for `name`, where it is refused (`empty`).
        - A field the operation does not take is refused (`unknown_field`) unless the gateway runs with \
        `validation.unknown_fields: drop`; a field sent twice is refused (`duplicate_field`).
        - All field problems are reported at once in one 422 `application/problem+json` document (RFC 9457), and \
        nothing is sent upstream. Every error justgate produces itself is a problem document.
        - Some rules depend on the site's settings: the phone country code, trunk prefix and national-number \
        length, whether the part of an e-mail address before `@` is lowercased, whether non-public IP addresses are \
        refused, and a gender allowlist.
        - Operations marked `x-justgate-alias-of` are other methods or paths the upstream reference uses for the same \
        call; `x-justgate-forwarded-as` is the call justgate makes.

        Generated from the operation catalogue; regenerate with `swift run justgate openapi > docs/openapi.yaml`.
        """

    /// Tag names in the order operations first use them.
    private static func tags(_ catalogue: Catalogue) -> [String] {
        var seen: [String] = []
        for operation in catalogue.operations where !seen.contains(OpenAPIRoute.tag(operation)) {
            seen.append(OpenAPIRoute.tag(operation))
        }
        return seen
    }

    private static func components(_ catalogue: Catalogue) -> YAMLTree {
        .map([
            ("securitySchemes", .map([
                ("siteKey", .map([
                    ("type", "apiKey"),
                    ("in", "header"),
                    ("name", "X-AUTH-TOKEN"),
                    ("description", .string("The site key justgate issued (`justgate keygen`), in the header sites already send "
                        + "the upstream token in. An upstream token is not a site key.")),
                ])),
                ("siteKeyBearer", .map([
                    ("type", "http"),
                    ("scheme", "bearer"),
                    ("description", "The same site key as `Authorization: Bearer <key>`."),
                ])),
            ])),
            ("parameters", .map([("X-Request-Id", .map([
                ("name", "X-Request-Id"),
                ("in", "header"),
                ("required", false),
                ("description", .string("An id to follow the call through the site's logs, justgate's and the upstream's; used "
                    + "when it is 1 to 128 characters of `[A-Za-z0-9._:-]`, otherwise justgate makes one.")),
                ("schema", .map([("type", "string"), ("pattern", .string(OpenAPIPatterns.requestID))])),
            ])),
            ("Idempotency-Key", .map([
                ("name", "Idempotency-Key"),
                ("in", "header"),
                ("required", false),
                ("description", .string("A key of the site's choosing (a UUID) that makes a retry safe: the same request with the "
                    + "same key within `idempotency.ttl_s` gets the first answer, marked `Idempotent-Replayed: true`, and "
                    + "creates nothing upstream. Other fields with the same key are 422 `idempotency-mismatch`; a duplicate "
                    + "while the first is still in flight is 409 `idempotency-conflict`. Only answers below 500 are remembered.")),
                ("schema", .map([("type", "string"), ("minLength", 1), ("maxLength", 255), ("pattern", "^[\\x21-\\x7E]+$")])),
            ])), OpenAPIDeferral.preferParameter()])),
            ("headers", OpenAPIProblems.headers()),
            ("responses", OpenAPIProblems.responses().adding([OpenAPIDeferral.deferredResponse()])),
            ("schemas", .map(OpenAPIOperations.requestSchemas(catalogue) + OpenAPIOperations.ruleSchemas()
                + OpenAPIProblems.schemas() + OpenAPIDeferral.schemas())),
        ])
    }
}
