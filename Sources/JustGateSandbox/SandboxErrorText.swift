/// One error answer of the emulated upstream: the exact text a site's code matches on, and the status the
/// sandbox sends with it.
///
/// The reference lists each operation's possible answers as lines of text and names no status codes, so every
/// status here is the sandbox's own choice: 400 for what the caller sent wrong, 404 for what does not exist,
/// 422 for a UTM update that finds nothing to change, 500 and 503 for failures on the upstream's side.
///
/// Where a reference line joins alternatives with `|` (`User not found | Subscription not found`), each
/// alternative is its own text here and the sandbox answers the one that applies. The line
/// `JuId empty / Not validate email` joins its halves with `/` instead and is kept as one literal text.
public struct SandboxErrorText: Sendable, Hashable {
    /// The body, exactly as the reference spells it.
    public let text: String
    /// The HTTP status the sandbox pairs with it.
    public let status: Int

    init(_ text: String, _ status: Int) {
        self.text = text
        self.status = status
    }

    /// The plain-text answer carrying this error.
    var response: SandboxResponse { .text(status, text) }

    /// profile.create, subscribe and action.save: the store could not keep the data.
    static let errorSaveData = SandboxErrorText("Error save data", 500)
    /// A field longer than the emulated store's columns: the same text, but the caller's fault.
    static let errorSaveDataTooLong = SandboxErrorText("Error save data", 400)
    /// subscribe.email: `juid` empty or `email` invalid; the reference writes both as one literal line.
    static let emailSubscriptionInvalid = SandboxErrorText("JuId empty / Not validate email", 400)
    /// subscribe.sms: `juid` missing or empty.
    static let juidEmpty = SandboxErrorText("JuId empty", 400)
    /// subscribe.sms: `number` missing or not digits.
    static let numberNotValid = SandboxErrorText("Not validate number", 400)
    /// No profile with this JUID on the token's site (including a `juid` that could never be one).
    static let userNotFound = SandboxErrorText("User not found", 404)
    /// unsubscribe and action.save: `juid` missing or empty.
    static let juidMissing = SandboxErrorText("JuId is missing", 400)
    /// unsubscribe: the address missing; action.save: `tags` or `label` missing.
    static let mandatoryParameterMissing = SandboxErrorText("Mandatory parameter is missing", 400)
    /// unsubscribe: the user exists but has no subscription on this address.
    static let subscriptionNotFound = SandboxErrorText("Subscription not found", 404)
    /// utm.update: `data` is not a usable JSON object.
    static let invalidData = SandboxErrorText("Invalid data", 400)
    /// utm.update: no email or SMS subscription has the address in `data`.
    static let unprocessableEntity = SandboxErrorText("Unprocessable Entity", 422)
    /// segments.get: no `juid` in the request.
    static let juidNotFound = SandboxErrorText("JUID not found", 400)
    /// stat.count_by_refid: `startDate` / `endDate` missing, not integers, or in the wrong order.
    static let invalidUnixRange = SandboxErrorText("Invalid startDate or endDate", 400)
    /// stat.by_refid: `start` / `end` missing, not `YYYY-MM-DD HH:MM:SS`, impossible, or in the wrong order.
    static let invalidDateRange = SandboxErrorText("Invalid start or end date", 400)
    /// Statistics: the query failed; the sandbox's cause is a range its date column cannot hold.
    static let errorQuery = SandboxErrorText("Error query", 500)
    /// stat.by_refid: the statistics service failed; only `--fail` produces it, since nothing in memory can.
    static let errorService = SandboxErrorText("Error service", 503)

    /// Every operation, by the id justgate's catalogue gives it, with the error texts the sandbox answers for
    /// it: the reference's texts (alternatives split) in the reference's order, plus the sandbox's own for
    /// action.save, whose reference lists no error. These are the texts `--fail` accepts.
    public static let byOperation: [(operation: String, errors: [SandboxErrorText])] = [
        ("profile.create", [.errorSaveData]),
        ("subscribe.email", [.emailSubscriptionInvalid, .userNotFound, .errorSaveData]),
        ("subscribe.sms", [.juidEmpty, .numberNotValid, .userNotFound, .errorSaveData]),
        ("unsubscribe.email", [.juidMissing, .mandatoryParameterMissing, .userNotFound, .subscriptionNotFound]),
        ("unsubscribe.sms", [.juidMissing, .mandatoryParameterMissing, .userNotFound, .subscriptionNotFound]),
        ("utm.update", [.invalidData, .unprocessableEntity]),
        ("action.save", [.juidMissing, .mandatoryParameterMissing, .userNotFound, .errorSaveData]),
        ("segments.get", [.userNotFound, .juidNotFound]),
        ("stat.count_by_refid", [.invalidUnixRange, .userNotFound, .errorQuery]),
        ("stat.by_refid", [.invalidDateRange, .errorService, .errorQuery]),
    ]
}
