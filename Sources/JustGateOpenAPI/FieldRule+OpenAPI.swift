import JustGateCore

/// How each field rule reads in the OpenAPI document.
///
/// A schema describes what a site may send, as exactly as JSON Schema can say it: the limits come
/// from the rules' own constants, so changing a rule changes its schema. Patterns describe the value
/// after surrounding whitespace is trimmed, which every rule does first; what a rule *does* to a value
/// (lowercasing, E.164, UTC) has no JSON Schema keyword and is said in prose and in `x-justgate-rule`.
extension FieldRule {
    /// The rule's name in `x-justgate-rule`: the case name, so it can be searched for in the source.
    var openAPIRuleName: String {
        switch self {
        case .email: "email"
        case .phone: "phone"
        case .ip: "ip"
        case .juid: "juid"
        case .name: "name"
        case .gender: "gender"
        case .birthDate: "birthDate"
        case .unixTimestamp: "unixTimestamp"
        case .dateTime: "dateTime"
        case .channel: "channel"
        case .tags: "tags"
        case .label: "label"
        case .article: "article"
        case .url: "url"
        case .text: "text"
        case .utmData: "utmData"
        }
    }

    /// The name of the shared schema under `components/schemas`; nil for a channel, whose allowed
    /// values differ per operation and so are written where they are used.
    var openAPIComponentName: String? {
        switch self {
        case .email: "Email"
        case .phone: "Phone"
        case .ip: "IPAddress"
        case .juid: "JUID"
        case .name: "Name"
        case .gender: "Gender"
        case .birthDate: "BirthDate"
        case .unixTimestamp: "UnixTimestamp"
        case .dateTime: "DateTime"
        case .channel: nil
        case .tags: "Tags"
        case .label: "Label"
        case .article: "Article"
        case .url: "URL"
        case .text: "Text"
        case .utmData: "UTMData"
        }
    }

    /// One sentence on what justgate forwards, appended to each field's own summary.
    var openAPINormalisation: String {
        switch self {
        case .email: "justgate trims and lowercases it."
        case .phone: "justgate forwards E.164 digits without `+`."
        case .ip: "justgate forwards canonical text; IPv4-mapped IPv6 becomes IPv4."
        case .juid: "justgate forwards 32 lowercase hex digits."
        case .name: "justgate collapses whitespace, drops control characters and composes NFC."
        case .gender: "justgate lowercases it."
        case .birthDate, .unixTimestamp: "justgate forwards whole Unix seconds."
        case .dateTime: "justgate forwards `YYYY-MM-DD HH:MM:SS` in UTC."
        case .channel: "justgate lowercases it."
        case .tags: "justgate trims the items and drops empty ones and repeats."
        case .label, .article, .text: "justgate trims it."
        case .url: "justgate lowercases the scheme and host."
        case .utmData: "justgate normalises its contact members and forwards compact JSON."
        }
    }

    /// The rule as a JSON Schema, with `x-justgate-rule` and a description of the normalisation.
    var openAPISchema: YAMLTree {
        let trimmed = " The schema describes the value after surrounding whitespace is trimmed."
        switch self {
        case .email:
            return Self.stringSchema(self, maxLength: EmailRule.maxLength, format: "email",
                pattern: OpenAPIPatterns.email, examples: ["name@example.com"],
                description: "An e-mail address in the WHATWG `<input type=email>` syntax with a dot in the domain; "
                    + "at most \(EmailRule.maxLength) characters, \(EmailRule.maxLocalLength) before `@` and "
                    + "\(EmailRule.maxLabelLength) per domain label. An internationalised domain must be punycode (`xn--…`). "
                    + "justgate lowercases it, the part before `@` too unless the site sets `email.lowercase_local_part: false`." + trimmed)
        case .phone:
            return Self.stringSchema(self, pattern: OpenAPIPatterns.phone, examples: ["+7 912 345-67-89", "8 (912) 345-67-89"],
                description: "A phone number as people type it: digits with spaces, `+`, `(`, `)`, `-` and `.`. justgate removes "
                    + "the punctuation and reads a leading `+` or `00` as the international prefix. Without one, on a site "
                    + "with `phone.default_country_code`, a number of exactly the national length (10 digits for country "
                    + "codes 7 and 1, else `phone.national_number_length`) gets the country code in front (`9123456789` "
                    + "becomes `79123456789`), and otherwise a leading `phone.trunk_prefix` is replaced by the country code. "
                    + "The result must "
                    + "be \(PhoneRule.minDigits) to \(PhoneRule.maxDigits) digits not starting with 0 and is forwarded as "
                    + "E.164 digits without `+` (`8 (912) 345-67-89` becomes `79123456789`)." + trimmed)
        case .ip:
            return YAMLTree.map([
                ("type", "string"),
                ("maxLength", 45),
                ("oneOf", .sequence([.map([("format", "ipv4")]), .map([("format", "ipv6")])])),
                ("description", .string("An IPv4 or IPv6 address without a zone id (`%eth0`). justgate forwards canonical text "
                    + "(RFC 5952 for IPv6) and folds IPv4-mapped IPv6 (`::ffff:203.0.113.7`) to plain IPv4. A site with "
                    + "`ip.reject_non_public: true` refuses private, loopback, link-local, documentation, multicast and other "
                    + "non-public addresses (`non_public_ip`)." + trimmed)),
                ("examples", .strings(["203.0.113.7", "2001:db8::1"])),
                ("x-justgate-rule", .string(openAPIRuleName)),
            ])
        case .juid:
            return Self.stringSchema(self, minLength: 32, maxLength: 36, pattern: OpenAPIPatterns.juid,
                examples: ["de6f0132ea9e412599ae31262c45633b"],
                description: "The user's Just id: 32 hex digits, or the same in dashed UUID form (8-4-4-4-12), in any case. "
                    + "justgate forwards 32 lowercase hex digits." + trimmed)
        case .name:
            return Self.stringSchema(self, minLength: 1, maxLength: NameRule.maxLength, examples: ["Анна Петрова"],
                description: "A display name. justgate collapses runs of whitespace to one space, drops control characters "
                    + "and composes the text to Unicode NFC; the result must be 1 to \(NameRule.maxLength) characters "
                    + "(Unicode scalars, counted after collapsing)." + trimmed)
        case .gender:
            return Self.stringSchema(self, minLength: 1, maxLength: GenderRule.maxLength, pattern: OpenAPIPatterns.oneLine,
                examples: ["female"],
                description: "A short word without control characters, at most \(GenderRule.maxLength) characters. justgate "
                    + "lowercases it; a site may restrict the values with `gender.allowed` (`gender_not_allowed`)." + trimmed)
        case .birthDate:
            return Self.stringSchema(self, pattern: OpenAPIPatterns.birthDate, examples: ["631152000", "1990-01-01"],
                description: "Unix seconds, Unix milliseconds (a magnitude of 10^11 or more is read as milliseconds) or "
                    + "`YYYY-MM-DD` (midnight UTC), between 1900-01-01 and now (`date_too_early`, `date_in_future`). "
                    + "justgate forwards whole Unix seconds." + trimmed)
        case .unixTimestamp:
            return Self.stringSchema(self, pattern: OpenAPIPatterns.unixTimestamp, examples: ["1642137171"],
                description: "Whole Unix seconds; milliseconds (a magnitude of 10^11 or more) are accepted and floored to "
                    + "seconds. justgate forwards whole Unix seconds." + trimmed)
        case .dateTime:
            return Self.stringSchema(self, pattern: OpenAPIPatterns.dateTime,
                examples: ["2020-08-11 20:38:49", "2020-08-11T20:38:49+03:00", "2020-08-11"],
                description: "`YYYY-MM-DD HH:MM:SS` in UTC, ISO 8601 (`T` separator, optional seconds and fraction, `Z` or "
                    + "`±HH:MM` offset) or a bare date (midnight). justgate applies the offset, drops the fraction and forwards "
                    + "`YYYY-MM-DD HH:MM:SS` in UTC; impossible dates such as Feb 30 are refused." + trimmed)
        case .channel(let allowed):
            return YAMLTree.map([
                ("type", "string"),
                ("enum", .strings(allowed)),
                ("description", .string("One of \(allowed.joined(separator: ", ")), compared case-insensitively; "
                    + "justgate forwards it in lowercase.")),
                ("x-justgate-rule", .string(openAPIRuleName)),
            ])
        case .tags:
            return Self.stringSchema(self, maxLength: TagsRule.maxInputLength, pattern: OpenAPIPatterns.tags, examples: ["1,2,3"],
                description: "A comma-separated list of tags of 1 to \(TagsRule.maxTagLength) letters, digits, `_` and `-`. "
                    + "justgate trims the items, drops empty items and repeats, and forwards the rest joined by commas; "
                    + "that list may be at most \(TagsRule.maxListLength) characters (so at most \(TagsRule.maxTags) tags), "
                    + "what the upstream stores, and the value as sent at most \(TagsRule.maxInputLength) bytes (`too_long`)." + trimmed)
        case .label:
            return Self.printableSchema(self, PrintableTextRule.label, example: "login")
        case .article:
            return Self.printableSchema(self, PrintableTextRule.article, example: "horoscope-aries-2026")
        case .text:
            return Self.printableSchema(self, PrintableTextRule.text, example: "ch-api_src")
        case .url:
            return Self.stringSchema(self, maxLength: URLRule.maxLength, pattern: OpenAPIPatterns.url,
                examples: ["https://example.com/signup"],
                description: "An absolute http or https URL of at most \(URLRule.maxLength) characters, without user info "
                    + "(`user:pass@`), spaces or control characters; an internationalised host must be punycode. justgate "
                    + "lowercases the scheme and host and keeps the path, query and fragment exactly. The port must be at "
                    + "most 65535." + trimmed)
        case .utmData:
            return Self.utmDataSchema(self)
        }
    }

    /// `type: string` with the keywords that apply, in one fixed order.
    private static func stringSchema(_ rule: FieldRule, minLength: Int? = nil, maxLength: Int? = nil, format: String? = nil,
                                     pattern: String? = nil, examples: [String], description: String) -> YAMLTree {
        YAMLTree.map([
            ("type", "string"),
            ("minLength", minLength.map(YAMLTree.integer)),
            ("maxLength", maxLength.map(YAMLTree.integer)),
            ("format", format.map(YAMLTree.string)),
            ("pattern", pattern.map(YAMLTree.string)),
            ("description", .string(description)),
            ("examples", .strings(examples)),
            ("x-justgate-rule", .string(rule.openAPIRuleName)),
        ])
    }

    private static func printableSchema(_ rule: FieldRule, _ limits: PrintableTextRule, example: String) -> YAMLTree {
        let range = limits.minLength == 0 ? "At most \(limits.maxLength)" : "\(limits.minLength) to \(limits.maxLength)"
        return stringSchema(rule, minLength: limits.minLength == 0 ? nil : limits.minLength, maxLength: limits.maxLength,
            pattern: OpenAPIPatterns.oneLine, examples: [example],
            description: "\(range) printable characters on one line: no control characters, line or paragraph separators. "
                + "justgate trims it and forwards it otherwise unchanged. The schema describes the value after surrounding "
                + "whitespace is trimmed.")
    }

    /// The object `data` holds: its contact members refer to the same rule schemas as the top-level
    /// fields, other members are free. Shared by the JSON-text and the JSON-body forms of `data`.
    static let openAPIUTMDataObject = YAMLTree.map([
        ("type", "object"),
        ("properties", .map([
            ("email", .ref("schemas", "Email")),
            ("number", .map([("anyOf", .sequence([.ref("schemas", "Phone"), .map([("type", "integer")])]))])),
            ("refid", .ref("schemas", "Text")),
            ("refidm", .ref("schemas", "Text")),
        ])),
        ("additionalProperties", false),
    ])

    /// A JSON object in a form field, or in a JSON body the object itself.
    private static func utmDataSchema(_ rule: FieldRule) -> YAMLTree {
        let object = YAMLTree.ref("schemas", "UTMDataObject")
        return YAMLTree.map([
            ("oneOf", .sequence([
                .map([
                    ("type", "string"),
                    ("contentMediaType", "application/json"),
                    ("contentSchema", object),
                ]),
                object,
            ])),
            ("description", .string("A JSON object: as JSON text in a form field, or in a JSON body as the object itself. "
                + "The upstream documentation's unescaped `\"{\"email\":…}\"` form and a JSON string holding the object are "
                + "accepted too. The `email`, `number`, `refid` and `refidm` members get the e-mail, phone and text rules "
                + "(problems name them `data.email`, …; a number may be a JSON number); they are the only members "
                + "forwarded: another member is refused (`unknown_field`) or, with `validation.unknown_fields: drop`, "
                + "left out. A member name that differs from a documented one only in case, and names or values with "
                + "control or bidirectional-control characters (U+202E, U+FEFF, …), are always refused. For a "
                + "repeated key the last value wins. justgate forwards compact JSON.")),
            ("examples", .strings(["{\"email\":\"name@example.com\",\"refid\":\"ch-api_src\"}"])),
            ("x-justgate-rule", .string(rule.openAPIRuleName)),
        ])
    }
}
