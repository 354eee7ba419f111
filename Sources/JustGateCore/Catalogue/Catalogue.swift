/// The ten operations of the Just Services profiles API, as data.
///
/// The canonical form of each is what the reference's examples actually send (PUT for
/// unsubscribe and UTM updates, `/info/segment/` with a query); the headings' variants are
/// accepted from sites as aliases and forwarded in the canonical form.
public struct Catalogue: Sendable {
    public private(set) var operations: [OperationSpec]

    public init(operations: [OperationSpec] = Catalogue.standardOperations) {
        self.operations = operations
    }

    public var ids: Set<String> { Set(operations.map(\.id)) }

    public func operation(id: String) -> OperationSpec? {
        operations.first { $0.id == id }
    }

    /// Applies config overrides of the forwarding method or path; a new method is also accepted from sites.
    public func overriding(_ overrides: [String: (method: String?, path: String?)]) -> Catalogue {
        var copy = self
        for index in copy.operations.indices {
            guard let override = overrides[copy.operations[index].id] else { continue }
            if let method = override.method {
                copy.operations[index].method = method
                if !copy.operations[index].acceptedMethods.contains(method) {
                    copy.operations[index].acceptedMethods.append(method)
                }
            }
            if let path = override.path { copy.operations[index].path = path }
        }
        return copy
    }

    private static let attribution: [FieldSpec] = [
        FieldSpec("regUrl", .url, summary: "Absolute http(s) URL of the page the user subscribed on."),
        FieldSpec("refid", .text, summary: "Referral id (traffic source)."),
        FieldSpec("refidm", .text, summary: "Secondary referral id."),
        FieldSpec("utmSource", .text, summary: "UTM source."),
        FieldSpec("utmMedium", .text, summary: "UTM medium."),
        FieldSpec("utmCampaign", .text, summary: "UTM campaign."),
    ]

    private static let juid = FieldSpec("juid", .juid, required: true, summary: "The user's Just id: 32 hex digits (a dashed UUID is accepted).")
    private static let email = FieldSpec("email", .email, required: true, summary: "E-mail address.")
    private static let number = FieldSpec("number", .phone, required: true, summary: "Phone number; normalised to international digits.")

    public static let standardOperations: [OperationSpec] = [
        OperationSpec(
            id: "profile.create", summary: "Create a user profile and return its juid.",
            method: "POST", path: "/api/user/v1/subscription/create/profile",
            fields: [
                FieldSpec("ip", .ip, summary: "The user's IP address, for geo and time zone."),
                FieldSpec("name", .name, summary: "Display name."),
                FieldSpec("gender", .gender, summary: "Gender, lowercase."),
                FieldSpec("birthDate", .birthDate, summary: "Birth date: Unix seconds, milliseconds or YYYY-MM-DD."),
            ],
            takesIdempotencyKey: true),
        OperationSpec(
            id: "subscribe.email", summary: "Create an e-mail subscription.",
            method: "POST", path: "/api/user/v1/subscription/subscribe/email",
            fields: [juid, email] + attribution).deferring(.stateSetting),
        OperationSpec(
            id: "subscribe.sms", summary: "Create an SMS subscription.",
            method: "POST", path: "/api/user/v1/subscription/subscribe/sms",
            fields: [juid, number] + attribution).deferring(.stateSetting),
        OperationSpec(
            id: "unsubscribe.email", summary: "Deactivate an e-mail subscription.",
            method: "PUT", path: "/api/user/v1/subscription/unsubscribe/email", acceptedMethods: ["POST"],
            fields: [juid, email]).deferring(.stateSetting),
        OperationSpec(
            id: "unsubscribe.sms", summary: "Deactivate an SMS subscription.",
            method: "PUT", path: "/api/user/v1/subscription/unsubscribe/sms", acceptedMethods: ["POST"],
            fields: [juid, number]).deferring(.stateSetting),
        OperationSpec(
            id: "utm.update", summary: "Update the referral and UTM data of a subscription.",
            method: "PUT", path: "/api/user/v1/subscription/update/utm-metric/channel/{channel}", acceptedMethods: ["POST"],
            pathParameter: FieldSpec("channel", .channel(["sms", "email", "push"]), required: true, summary: "Subscription channel."),
            fields: [FieldSpec("data", .utmData, required: true, summary: "JSON object with email or number and refid, refidm.")]).deferring(.stateSetting),
        OperationSpec(
            id: "action.save", summary: "Record a user action.",
            method: "POST", path: "/api/user/v1/action/",
            fields: [
                juid,
                FieldSpec("tags", .tags, required: true, summary: "Comma-separated tags: letters, digits, _ and -."),
                FieldSpec("label", .label, required: true, summary: "Action label, e.g. login."),
                FieldSpec("article", .article, summary: "Article the action relates to."),
            ]).deferring(.recording),
        OperationSpec(
            id: "segments.get", summary: "Read the user's segments.",
            method: "GET", path: "/api/user/v1/info/segment/", acceptedMethods: ["POST"],
            aliasPaths: ["/api/user/v1/info/segments/"],
            fields: [juid], retrySafe: true),
        OperationSpec(
            id: "stat.count_by_refid", summary: "Count subscriptions per refid in a Unix-time range.",
            method: "GET", path: "/api/user/v1/stat/get-count-refid/{channel}",
            pathParameter: FieldSpec("channel", .channel(["sms", "email"]), required: true, summary: "Subscription channel."),
            fields: [
                FieldSpec("startDate", .unixTimestamp, required: true, summary: "Range start, Unix seconds (milliseconds accepted)."),
                FieldSpec("endDate", .unixTimestamp, required: true, summary: "Range end, Unix seconds (milliseconds accepted)."),
            ],
            ranges: [OrderedFieldPair(start: "startDate", end: "endDate")], retrySafe: true),
        OperationSpec(
            id: "stat.by_refid", summary: "Subscription counts per day and refid in a date-time range.",
            method: "GET", path: "/api/user/v1/info/stat-by-refid/channel/{channel}",
            aliasPaths: ["/api/user/v1/stat/stat-by-refid/channel/{channel}"],
            pathParameter: FieldSpec("channel", .channel(["sms", "email"]), required: true, summary: "Subscription channel."),
            fields: [
                FieldSpec("start", .dateTime, required: true, summary: "Range start, YYYY-MM-DD HH:MM:SS (ISO 8601 accepted), UTC."),
                FieldSpec("end", .dateTime, required: true, summary: "Range end, YYYY-MM-DD HH:MM:SS (ISO 8601 accepted), UTC."),
            ],
            ranges: [OrderedFieldPair(start: "start", end: "end")], retrySafe: true),
    ]
}
