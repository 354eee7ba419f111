/// The validate-and-normalise rule applied to one submitted field.
///
/// Sites send the same loosely formatted values they used to send upstream; every value passes through
/// exactly one rule, which either returns the canonical text justgate forwards or explains what is wrong.
/// Rules are pure: no clock, no I/O, no shared state, so they can run on any event loop thread.
///
/// Lengths are counted in Unicode scalars, not grapheme clusters: scalar counts are cheap, never change
/// between Unicode versions, and bound the bytes forwarded (at most 4 per scalar).
public enum FieldRule: Sendable, Hashable {
    /// `email`: WHATWG syntax, dot in the domain, RFC 5321 lengths; lowercased.
    case email
    /// `number`: E.164 digits without `+`, using the site's country code and trunk prefix.
    case phone
    /// `ip`: IPv4 or IPv6 in canonical text (RFC 5952), v4-mapped folded to v4.
    case ip
    /// `juid`: 32 lowercase hex digits; dashed UUID form accepted.
    case juid
    /// `name`: trimmed, whitespace collapsed, controls dropped, NFC, at most 100 characters.
    case name
    /// `gender`: lowercase, at most 16 characters, optionally from the site's allowlist.
    case gender
    /// `birthDate`: Unix seconds between 1900-01-01 and now; milliseconds and `YYYY-MM-DD` accepted.
    case birthDate
    /// `startDate`/`endDate`: integer Unix seconds; milliseconds accepted.
    case unixTimestamp
    /// `start`/`end`: `YYYY-MM-DD HH:MM:SS` in UTC; ISO 8601 and bare dates accepted.
    case dateTime
    /// One of a fixed set of lowercase values, compared case-insensitively.
    case channel([String])
    /// `tags`: a de-duplicated comma list of `[A-Za-z0-9_-]{1,64}` items.
    case tags
    /// `label`: 1–64 printable characters on one line.
    case label
    /// `article`: at most 255 printable characters on one line.
    case article
    /// `regUrl`: an absolute http(s) URL, scheme and host lowercased, at most 2048 characters.
    case url
    /// `refid`, `refidm`, `utm*`: 1–255 printable characters on one line.
    case text
    /// `data` of `utm.update`: a JSON object whose contact fields are normalised, written compact.
    case utmData

    /// Whether a value that is blank (spaces and tabs only) is refused by the rule instead of counting
    /// as absent: a display name of nothing but spaces is a mistake a site should hear about
    /// (`empty`), while blank optional attribution fields are what HTML forms send when left empty.
    public var refusesBlank: Bool {
        self == .name
    }

    /// Normalises one raw value, or explains every problem with it. `field` is the name put in problems.
    ///
    /// A value longer than `maxInputBytes` as sent is refused before the rule reads it (a constant-time
    /// check): no rule then ever works on more than a few KiB, so none can hold an event loop for long,
    /// whatever its cost per byte (bench/micro `WorstInputs` checks the bound).
    public func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let inputBytes = raw.utf8.count
        guard inputBytes <= maxInputBytes else {
            return .failure(FieldProblems([FieldProblem(field: field, code: ProblemCode.tooLong,
                message: "expected at most \(maxInputBytes) bytes as sent\(limitNote); got \(inputBytes)")]))
        }
        switch self {
        case .email: return EmailRule.normalise(raw, field: field, options: options)
        case .phone: return PhoneRule.normalise(raw, field: field, options: options)
        case .ip: return IPAddressRule.normalise(raw, field: field, options: options)
        case .juid: return JUIDRule.normalise(raw, field: field)
        case .name: return NameRule.normalise(raw, field: field)
        case .gender: return GenderRule.normalise(raw, field: field, options: options)
        case .birthDate: return BirthDateRule.normalise(raw, field: field, options: options)
        case .unixTimestamp: return TimestampRule.normalise(raw, field: field)
        case .dateTime: return DateTimeRule.normalise(raw, field: field)
        case .channel(let allowed): return ChannelRule.normalise(raw, field: field, allowed: allowed)
        case .tags: return TagsRule.normalise(raw, field: field)
        case .label: return PrintableTextRule.label.normalise(raw, field: field)
        case .article: return PrintableTextRule.article.normalise(raw, field: field)
        case .url: return URLRule.normalise(raw, field: field)
        case .text: return PrintableTextRule.text.normalise(raw, field: field)
        case .utmData: return UTMDataRule.normalise(raw, field: field, options: options)
        }
    }

    /// The longest value a rule reads, in UTF-8 bytes as sent: room for the longest value the rule accepts
    /// (4 bytes per character) and 1 KiB of surrounding whitespace, or 1 KiB for short values; `tags` and
    /// `utmData` have their own (`TagsRule.maxInputLength`; a JSON object of the four documented members,
    /// each at most 255 characters, escaped).
    public var maxInputBytes: Int {
        let slack = 1024
        switch self {
        case .email: return slack + 4 * EmailRule.maxLength
        case .name: return slack + 4 * NameRule.maxLength
        case .gender: return slack + 4 * GenderRule.maxLength
        case .label: return slack + 4 * PrintableTextRule.label.maxLength
        case .article: return slack + 4 * PrintableTextRule.article.maxLength
        case .text: return slack + 4 * PrintableTextRule.text.maxLength
        case .url: return slack + 4 * URLRule.maxLength
        case .tags: return TagsRule.maxInputLength
        case .utmData: return 8192
        case .phone, .ip, .juid, .birthDate, .unixTimestamp, .dateTime, .channel: return slack
        }
    }

    /// What the too-long message adds about the rule's own limit.
    private var limitNote: String {
        self == .tags ? " (the upstream keeps at most \(TagsRule.maxListLength) characters, \(TagsRule.maxTags) tags)" : ""
    }
}
