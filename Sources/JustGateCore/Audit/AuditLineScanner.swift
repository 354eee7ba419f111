/// Reads the lines justgate itself writes, fast: the keys in their fixed order, no whitespace, ASCII strings
/// without escapes, numbers in the forms the encoder writes. Anything else (a line edited by hand, non-ASCII
/// text, an escape) returns `nil` and goes to the strict general parser, which accepts every valid record
/// and explains every invalid one; so the scanner only ever says yes to lines the parser would also accept.
///
/// It exists because the general parser builds a tree of every member first: over a million records that
/// was most of `audit summary`'s time.
struct AuditLineScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The record on `line`, or `nil` when the line is not in the exact form justgate writes.
    static func scan(_ line: ArraySlice<UInt8>) -> AuditRecord? {
        line.withUnsafeBufferPointer { buffer in
            var scanner = AuditLineScanner(buffer)
            return scanner.record()
        }
    }

    private mutating func record() -> AuditRecord? {
        guard take("{\"time\":"), let time = string() else { return nil }
        var record = AuditRecord(time: time)
        guard take(",\"seq\":"), let seq = integer() else { return nil }
        record.seq = seq
        guard take(",\"event\":"), let eventText = string(), let event = AuditRecord.Event(rawValue: eventText) else { return nil }
        record.event = event
        guard take(",\"request_id\":"), let requestID = optionalString() else { return nil }
        record.requestID = requestID
        guard take(",\"site\":"), let site = optionalString() else { return nil }
        record.site = site
        // `key` and `reason` are absent from lines written before they existed: both or neither.
        let current = take(",\"key\":")
        if current {
            guard let key = optionalString() else { return nil }
            record.key = key
        }
        guard take(",\"operation\":"), let operation = optionalString() else { return nil }
        record.operation = operation
        guard take(",\"method\":"), let method = optionalString() else { return nil }
        record.method = method
        guard take(",\"path\":"), let path = optionalString() else { return nil }
        record.path = path
        guard take(",\"client\":"), let client = optionalString() else { return nil }
        record.client = client
        guard take(",\"outcome\":"), let outcome = optionalString() else { return nil }
        record.outcome = outcome
        if current {
            guard take(",\"reason\":"), let reason = optionalString() else { return nil }
            record.reason = reason
        }
        guard take(",\"status\":"), let status = optionalInteger() else { return nil }
        record.status = status
        guard take(",\"upstream_status\":"), let upstreamStatus = optionalInteger() else { return nil }
        record.upstreamStatus = upstreamStatus
        guard take(",\"duration_ms\":"), let duration = optionalMillis() else { return nil }
        record.durationMicros = duration
        guard take(",\"upstream_ms\":"), let upstream = optionalMillis() else { return nil }
        record.upstreamMicros = upstream
        guard take(",\"attempts\":"), let attempts = optionalInteger() else { return nil }
        record.attempts = attempts
        guard take(",\"errors\":["), let errors = errorList() else { return nil }
        record.errors = errors
        guard take(",\"policy\":"), let policy = optionalString() else { return nil }
        record.policy = policy
        guard take(",\"trace_id\":"), let traceID = optionalString() else { return nil }
        record.traceID = traceID
        guard take(",\"juid\":"), let juid = optionalString() else { return nil }
        record.juid = juid
        guard take(",\"email\":"), let email = optionalString() else { return nil }
        record.email = email
        guard take(",\"phone\":"), let phone = optionalString() else { return nil }
        record.phone = phone
        guard take(",\"ip\":"), let ip = optionalString() else { return nil }
        record.ip = ip
        guard take(",\"note\":"), let note = optionalString() else { return nil }
        record.note = note
        guard take(",\"prev\":"), let prev = string() else { return nil }
        record.prev = prev
        guard take(",\"hash\":"), let hash = string(), take("}"), position == bytes.count else { return nil }
        record.hash = hash
        return record
    }

    // MARK: - Pieces

    private mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let expected = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != expected[offset] { return false }
        position += count
        return true
    }

    /// `"…"` of printable ASCII without backslash; anything else is left to the general parser.
    private mutating func string() -> String? {
        guard position < bytes.count, bytes[position] == 0x22 else { return nil }
        let start = position + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == 0x22 { break }
            guard byte >= 0x20, byte < 0x7F, byte != 0x5C else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        position = end + 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// `.some(nil)` for `null`, `.some(text)` for a string, `nil` for anything else.
    private mutating func optionalString() -> String?? {
        if take("null") { return .some(nil) }
        return string().map { .some($0) }
    }

    /// A JSON integer: optional minus, no leading zero, at most 18 digits.
    private mutating func integer() -> Int? {
        let negative = position < bytes.count && bytes[position] == 0x2D
        if negative { position += 1 }
        let start = position
        var value = 0
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39, position - start < 18 {
            value = value * 10 + Int(bytes[position] - 0x30)
            position += 1
        }
        let digits = position - start
        guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { return nil }
        if position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { return nil }
        return negative ? -value : value
    }

    private mutating func optionalInteger() -> Int?? {
        if take("null") { return .some(nil) }
        guard let value = integer(), !isNumberContinuing else { return nil }
        return .some(value)
    }

    /// `12.034` as 12034 microseconds: the three-decimal form the encoder writes.
    private mutating func optionalMillis() -> Int?? {
        if take("null") { return .some(nil) }
        let negative = position < bytes.count && bytes[position] == 0x2D
        guard let whole = integer(), take(".") else { return nil }
        var fraction = 0
        for _ in 0..<3 {
            guard position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 else { return nil }
            fraction = fraction * 10 + Int(bytes[position] - 0x30)
            position += 1
        }
        guard !isNumberContinuing else { return nil }
        return .some(whole * 1000 + (negative ? -fraction : fraction))
    }

    /// Digits, a point or an exponent right after a number: not the form the encoder writes.
    private var isNumberContinuing: Bool {
        guard position < bytes.count else { return false }
        let byte = bytes[position]
        return (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x65 || byte == 0x45
    }

    /// The members of `errors` after its `[`, through its `]`.
    private mutating func errorList() -> [AuditFieldError]? {
        var errors: [AuditFieldError] = []
        if take("]") { return errors }
        repeat {
            guard take("{\"field\":"), let field = optionalString(), take(",\"code\":"), let code = string(), take("}")
            else { return nil }
            errors.append(AuditFieldError(field: field, code: code))
        } while take(",")
        return take("]") ? errors : nil
    }
}
