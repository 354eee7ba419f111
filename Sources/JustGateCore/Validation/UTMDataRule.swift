/// The `data` rule of `utm.update`: a JSON object whose contact fields get the ordinary field rules.
///
/// The upstream documentation's own example sends `data="{"email":…}"`: the object wrapped in one pair
/// of double quotes whose inner quotes are *not* escaped, so it is neither JSON nor a JSON string. Sites
/// copied that example, so one outer pair of quotes is removed when the value starts with `"{` and ends
/// with `}"`; a properly escaped JSON string holding an object is accepted too.
///
/// Duplicate keys (the example repeats `refid`): the last value wins and takes the position of the
/// *first* occurrence, so the member order of the rest of the object is unchanged.
///
/// Only the members the reference documents go upstream: `email`, `number`, `refid` and `refidm`,
/// normalised like the top-level fields, accepting JSON numbers as their literal text
/// (`"number":99988800066`) and always written as JSON strings. Any other member follows
/// `validation.unknown_fields` (422 `unknown_field`, or dropped). Refused whatever the policy: a key
/// that differs from a documented one only in case (`EMAIL` next to `email` would reach the upstream
/// unchecked), and keys or values with control or bidirectional-control characters. Problems are
/// reported as `data.email`, `data.number`, ….
enum UTMDataRule {
    static let example = "expected a JSON object like {\"email\":\"name@example.com\",\"refid\":\"ch-api_src\"}"
    /// The members the reference documents, in the order it lists them.
    static let documentedKeys = ["email", "number", "refid", "refidm"]

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        let document: JSONValue
        switch parse(value) {
        case .success(let parsed): document = parsed
        case .failure(let error):
            let code = value.isEmpty ? ProblemCode.empty : ProblemCode.invalidJSON
            return .failure(FieldProblems(field: field, code: code,
                message: "\(example); at byte \(error.offset): \(error.message)"))
        }
        guard case .object(let members) = document else {
            return .failure(FieldProblems(field: field, code: ProblemCode.notAnObject, message: "\(example); got another kind of JSON value"))
        }
        var problems = ProblemCollector()
        var normalised: [JSONMember] = []
        for member in lastValueWins(members) {
            let innerField = "\(field).\(ProblemText.excerpt(member.key))"
            if UnicodeText.containsControlOrBidi(member.key) {
                problems.append(FieldProblem(field: innerField, code: ProblemCode.controlCharacters,
                    message: "a member name of \(field) contains control or bidirectional-control characters; use \(documentedList)"))
                continue
            }
            guard let rule = innerRule(for: member.key) else {
                if let documented = documentedKeys.first(where: { UnicodeText.asciiLowercased(Substring(member.key)) == $0 }) {
                    problems.append(FieldProblem(field: innerField, code: ProblemCode.unknownField,
                        message: "write the member '\(documented)' in lowercase; member names are case-sensitive"))
                } else if options.unknownFields == .reject {
                    problems.append(FieldProblem(field: innerField, code: ProblemCode.unknownField,
                        message: "'\(ProblemText.excerpt(member.key))' is not a documented member of \(field); it takes: \(documentedList)"))
                }
                continue
            }
            let text: String
            switch member.value {
            case .string(let string): text = string
            case .number(let literal): text = literal
            default:
                problems.append(FieldProblem(field: innerField, code: ProblemCode.invalidText,
                    message: "expected a string or a number for \(member.key)"))
                continue
            }
            if UnicodeText.containsControlOrBidi(text) {
                problems.append(FieldProblem(field: innerField, code: ProblemCode.controlCharacters,
                    message: "expected one line of text without control or bidirectional-control characters; got \(UnicodeText.echo(text))"))
                continue
            }
            switch rule.normalise(text, field: innerField, options: options) {
            case .success(let clean): normalised.append(JSONMember(key: member.key, value: .string(clean)))
            case .failure(let inner): problems.append(contentsOf: inner)
            }
        }
        guard problems.isEmpty else { return .failure(problems.failure) }
        return .success(JSONWriter.compact(.object(normalised)))
    }

    private static let documentedList = documentedKeys.joined(separator: ", ")

    static func innerRule(for key: String) -> FieldRule? {
        switch key {
        case "email": return .email
        case "number": return .phone
        case "refid", "refidm": return .text
        default: return nil
        }
    }

    /// Plain JSON first; then the documentation's unescaped `"{…}"` form; then a JSON string holding JSON.
    static func parse(_ value: Substring) -> Result<JSONValue, JSONParseError> {
        let text = String(value)
        let direct = Result { () throws(JSONParseError) in try JSONParser.parse(text) }
        guard value.hasPrefix("\"{") && value.hasSuffix("}\"") && value.utf8.count >= 4 else { return direct }
        let unwrapped = Result { () throws(JSONParseError) in try JSONParser.parse(String(value.dropFirst().dropLast())) }
        if case .success = unwrapped { return unwrapped }
        if case .success(.string(let inner)) = direct {
            return Result { () throws(JSONParseError) in try JSONParser.parse(inner) }
        }
        return unwrapped
    }

    /// Keeps one member per key: the last value, at the first occurrence's position.
    static func lastValueWins(_ members: [JSONMember]) -> [JSONMember] {
        var positions: [String: Int] = [:]
        var result: [JSONMember] = []
        for member in members {
            if let position = positions[member.key] {
                result[position].value = member.value
            } else {
                positions[member.key] = result.count
                result.append(member)
            }
        }
        return result
    }
}
