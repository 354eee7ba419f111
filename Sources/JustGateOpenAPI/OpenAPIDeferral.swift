import JustGateCore

/// What store and forward adds to the contract (issue 25 items 2 and 3): the `202 Accepted` of an operation
/// that may be deferred, the `Prefer: respond-async` that asks for it, and `GET /justgate/v1/deliveries/{id}`,
/// where a site reads what became of the call.
///
/// Why here and not in the operations: the 202 and the deliveries endpoint are answered by justgate itself,
/// never relayed, so they are described once and referred to from every operation that may be deferred.
enum OpenAPIDeferral {
    /// The path a site polls (the 202's `Location`), with its parameter.
    static let deliveryPath = "/justgate/v1/deliveries/{id}"

    /// The extra response an operation lists when a site may defer it.
    static func responses(for operation: OperationSpec) -> [(String, YAMLTree?)] {
        operation.deferral.mayDefer ? [("202", .ref("responses", "Deferred"))] : []
    }

    /// The `Prefer` parameter, on operations a site may defer.
    static func parameters(for operation: OperationSpec) -> [YAMLTree] {
        operation.deferral.mayDefer ? [.ref("parameters", "Prefer")] : []
    }

    /// `components/parameters/Prefer`.
    static func preferParameter() -> (String, YAMLTree?) {
        ("Prefer", .map([
            ("name", "Prefer"),
            ("in", "header"),
            ("required", false),
            ("description", .string("`respond-async` (RFC 7240) asks justgate to keep the call in its outbox and deliver it "
                + "later, answering 202 at once, when the site lists the operation in `defer`. A call is deferred without "
                + "it too when the upstream cannot take it now (circuit open, `max_in_flight` reached, connection failed, "
                + "502/503/504) or when earlier deferred calls of the same `juid` still wait. Ignored elsewhere.")),
            ("schema", .map([("type", "string")])),
            ("example", "respond-async"),
        ]))
    }

    /// `components/responses/Deferred`: the 202.
    static func deferredResponse() -> (String, YAMLTree?) {
        ("Deferred", .map([
            ("description", .string("Deferred (only when the site lists the operation in `defer`): the call is on disk in "
                + "justgate's outbox and will be delivered, in order per site and `juid`, with retries until it is "
                + "delivered or dead. Read its state at `Location` with the same site key.")),
            ("headers", .map([
                ("X-Request-Id", .ref("headers", "X-Request-Id")),
                ("Location", .map([
                    ("description", "Where the delivery's state is read: `/justgate/v1/deliveries/<id>`."),
                    ("schema", .map([("type", "string"), ("pattern", "^/justgate/v1/deliveries/[0-9a-f]{32}$")])),
                ])),
                ("Preference-Applied", .map([
                    ("description", "`respond-async` when the call carried `Prefer: respond-async`."),
                    ("schema", .map([("type", "string")])),
                ])),
            ])),
            ("content", .map([("application/json", .map([("schema", .ref("schemas", "DeliveryAccepted"))]))])),
        ]))
    }

    /// The deliveries path item.
    static func deliveryPathItem() -> (String, YAMLTree?) {
        let description = "What became of a call justgate answered with 202: `pending` (waiting for its next "
            + "attempt), `delivered` (the upstream answered 2xx) or `dead` (the upstream refused it with a 4xx, or "
            + "it was not delivered within `outbox.max_age_s`). Answered by justgate, never forwarded. Delivered "
            + "calls are remembered for a while, not for ever."
        let idParameter: YAMLTree = .map([
            ("name", "id"),
            ("in", "path"),
            ("required", true),
            ("description", "The id in the 202's `Location` and body."),
            ("schema", .map([("type", "string"), ("pattern", "^[0-9a-f]{32}$")])),
        ])
        let get: YAMLTree = .map([
            ("tags", .strings(["deliveries"])),
            ("summary", "State of a deferred call"),
            ("description", .string(description)),
            ("operationId", "delivery.status"),
            ("parameters", .sequence([idParameter, .ref("parameters", "X-Request-Id")])),
            ("responses", deliveryResponses()),
        ])
        return (deliveryPath, .map([("get", get)]))
    }

    private static func deliveryResponses() -> YAMLTree {
        let requestID: YAMLTree = .map([("X-Request-Id", .ref("headers", "X-Request-Id"))])
        let found: YAMLTree = .map([
            ("description", "The delivery's state."),
            ("headers", requestID),
            ("content", .map([("application/json", .map([("schema", .ref("schemas", "DeliveryStatus"))]))])),
        ])
        let notFoundText = "This site deferred no call with this id: unknown, another site's (the same answer, so "
            + "ids cannot be probed across sites), or delivered long enough ago to be forgotten."
        let notFound: YAMLTree = .map([
            ("description", .string(notFoundText)),
            ("headers", requestID),
            ("content", .map([("application/problem+json", .map([("schema", OpenAPIProblems.problemSchema(for: .notFound))]))])),
        ])
        return .map([
            ("200", found),
            ("401", .ref("responses", OpenAPIProblems.componentName(.unauthorized))),
            ("404", notFound),
            ("405", .ref("responses", OpenAPIProblems.componentName(.methodNotAllowed))),
            // The outbox cannot be read now (its Redis is down): poll again, the call is not known to be gone.
            ("503", .ref("responses", OpenAPIProblems.componentName(.unavailable))),
        ])
    }

    /// `DeliveryAccepted` (the 202's body) and `DeliveryStatus` (the deliveries endpoint's).
    static func schemas() -> [(String, YAMLTree?)] {
        let id = YAMLTree.map([("type", "string"), ("pattern", "^[0-9a-f]{32}$")])
        let attemptsText = "Attempts that reached a verdict so far."
        return [
            ("DeliveryAccepted", .map([
                ("type", "object"),
                ("required", .strings(["id", "state"])),
                ("properties", .map([("id", id), ("state", .map([("const", "pending")]))])),
            ])),
            ("DeliveryStatus", .map([
                ("type", "object"),
                ("required", .strings(["id", "state", "attempts", "next_attempt_at", "upstream_status", "upstream_body"])),
                ("properties", .map([
                    ("id", id),
                    ("state", .map([("type", "string"), ("enum", .strings(["pending", "delivered", "dead"]))])),
                    ("attempts", .map([("type", "integer"), ("minimum", 0), ("description", .string(attemptsText))])),
                    ("next_attempt_at", .map([("type", .strings(["string", "null"])), ("format", "date-time"),
                                              ("description", "When the next attempt is due; null unless pending.")])),
                    ("upstream_status", .map([("type", .strings(["integer", "null"])),
                                              ("description", "The status of the upstream's last answer; null before one.")])),
                    ("upstream_body", .map([("type", .strings(["string", "null"])),
                                            ("description", "The first 2 KiB of the upstream's last answer; null when empty.")])),
                ])),
            ])),
        ]
    }
}
