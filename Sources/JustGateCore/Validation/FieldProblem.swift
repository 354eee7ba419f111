/// One thing wrong with one submitted field, phrased so a site developer can fix the request.
///
/// Rules never throw on bad input: they collect problems so the gateway can answer with every mistake
/// in a request at once instead of making the caller fix them one round trip at a time.
public struct FieldProblem: Sendable, Hashable {
    /// The field as the caller named it (`email`, or `data.email` for a value nested in `data`).
    public var field: String
    /// A stable machine-readable code from ``ProblemCode``; clients may switch on it.
    public var code: String
    /// A human sentence saying what was expected; echoes at most a short, escaped prefix of the input.
    public var message: String

    /// Creates a problem; `code` should be one of the ``ProblemCode`` constants.
    public init(field: String, code: String, message: String) {
        self.field = field
        self.code = code
        self.message = message
    }
}

/// Every problem found with a value, so one rejection can explain all of them.
public struct FieldProblems: Error, Sendable, Equatable {
    /// The problems in the order the rule found them; never empty when produced by a rule.
    public var problems: [FieldProblem]
    /// Problems found but not listed, because the list stops at ``ProblemCollector/defaultLimit``.
    public var omitted = 0

    /// Wraps a list of problems.
    public init(_ problems: [FieldProblem]) {
        self.problems = problems
    }

    /// Wraps a list of problems (labelled form, for call sites that read better with it).
    public init(problems: [FieldProblem]) {
        self.problems = problems
    }

    /// Wraps a single problem, the common case.
    public init(field: String, code: String, message: String) {
        self.problems = [FieldProblem(field: field, code: code, message: message)]
    }
}

/// The stable problem codes that clients may match on.
///
/// Codes are part of the gateway's public contract: add new ones, never rename or reuse old ones.
public enum ProblemCode {
    /// A mandatory field is missing (reported by the pipeline, not by a single rule).
    public static let required = "required"
    /// A field the operation does not know was sent.
    public static let unknownField = "unknown_field"
    /// The value is not an e-mail address in WHATWG HTML syntax.
    public static let invalidEmail = "invalid_email"
    /// The value is not a phone number that can be turned into E.164 digits.
    public static let invalidPhone = "invalid_phone"
    /// The value is not an IPv4 or IPv6 address.
    public static let invalidIP = "invalid_ip"
    /// The address is private, loopback, link-local, documentation, multicast or otherwise not public.
    public static let nonPublicIP = "non_public_ip"
    /// The value is not 32 hex digits (or a dashed UUID).
    public static let invalidJUID = "invalid_juid"
    /// The value is not usable as a person's name.
    public static let invalidName = "invalid_name"
    /// The value is not usable as a gender.
    public static let invalidGender = "invalid_gender"
    /// The gender is well formed but not in the site's allowlist.
    public static let genderNotAllowed = "gender_not_allowed"
    /// The value is not a date, timestamp or date-time in an accepted form, or not a real calendar date.
    public static let invalidDate = "invalid_date"
    /// The date lies after the injected current time.
    public static let dateInFuture = "date_in_future"
    /// The date lies before the earliest accepted date.
    public static let dateTooEarly = "date_too_early"
    /// The value is not one of the allowed channels.
    public static let invalidChannel = "invalid_channel"
    /// The value is not a comma list of simple tags.
    public static let invalidTags = "invalid_tags"
    /// The value is not a short printable label.
    public static let invalidLabel = "invalid_label"
    /// The value is not printable one-line text.
    public static let invalidText = "invalid_text"
    /// The value is not an absolute http or https URL.
    public static let invalidURL = "invalid_url"
    /// The value is not strict JSON.
    public static let invalidJSON = "invalid_json"
    /// The value is JSON but not a JSON object.
    public static let notAnObject = "not_an_object"
    /// The value is longer than the field allows.
    public static let tooLong = "too_long"
    /// The value is empty (after trimming).
    public static let empty = "empty"
    /// The value contains control characters (general category Cc, or line/paragraph separators).
    public static let controlCharacters = "control_characters"
    /// A start value lies after its end value.
    public static let reversedRange = "reversed_range"
    /// The same field was sent more than once (reported by the pipeline).
    public static let duplicateField = "duplicate_field"
}
