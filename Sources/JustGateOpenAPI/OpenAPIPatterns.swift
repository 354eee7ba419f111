import JustGateCore

/// The ECMA-262 regular expressions the OpenAPI schemas use, one per rule that has a syntax.
///
/// Each is the rule's syntax restated as a regex for client-side checks and code generators; the
/// rules themselves use hand-written scanners (see ``EmailSyntax``) and stay the authority. The tests
/// run each pattern against values the rules accept and refuse, so the two cannot drift apart silently.
/// Every pattern applies to the value after surrounding whitespace is trimmed.
enum OpenAPIPatterns {
    /// WHATWG's e-mail syntax with the rule's additions: at most 64 characters before `@`, and at
    /// least one dot in the domain (`+` rather than `*` on the dotted labels).
    static let email = #"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"#

    /// Digits with spaces and `( ) - .`, at most one `+` before the first digit.
    static let phone = #"^[\s().-]*\+?[\s().-]*[0-9][\s0-9().-]*$"#

    /// 32 hex digits, or 8-4-4-4-12 with dashes; any case.
    static let juid = #"^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"#

    /// An integer (seconds or milliseconds) or `YYYY-MM-DD`.
    static let birthDate = #"^(?:-?[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2})$"#

    /// An integer, seconds or milliseconds.
    static let unixTimestamp = #"^-?[0-9]+$"#

    /// `date [(T|t|space) HH:MM[:SS[(.|,)fraction]] [Z|z|±HH:MM|±HHMM]]`, as ``DateTimeRule`` parses it.
    static let dateTime = #"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?$"#

    /// At least one tag of 1–64 `[A-Za-z0-9_-]`; commas separate, whitespace and empty items are ignored.
    static let tags = #"^[\s,]*[A-Za-z0-9_-]{1,64}(?:\s*,[\s,]*[A-Za-z0-9_-]{1,64})*[\s,]*$"#

    /// No control character (C0, DEL, C1) and no line or paragraph separator.
    static let oneLine = #"^[^\u0000-\u001F\u007F-\u009F\u2028\u2029]*$"#

    /// `http(s)://host[:port][/?#rest]`: host as dot-separated labels of letters, digits, `-` and `_`,
    /// or a bracketed IPv6 address; no user info, spaces or control characters anywhere.
    static let url = #"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:[/?#][^\s\u0000-\u001F\u007F-\u009F]*)?$"#

    /// What justgate accepts as a caller's `X-Request-Id` (otherwise it makes a new one).
    static let requestID = #"^[A-Za-z0-9._:-]{1,128}$"#
}
