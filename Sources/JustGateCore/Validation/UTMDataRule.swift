/// The `data` rule of `utm.update`: a JSON object whose contact fields get the ordinary field rules.
///
/// The upstream documentation's own example sends `data="{"email":…}"`: the object wrapped in one pair
/// of double quotes whose inner quotes are *not* escaped, so it is neither JSON nor a JSON string. Sites
/// copied that example, so one outer pair of quotes is removed when the value starts with `"{` and ends
/// with `}"`; a properly escaped JSON string holding an object is accepted too.
///
/// Duplicate keys (the example repeats `refid`): the last value wins and takes the position of the
/// *first* occurrence, so the member order of the rest of the object is unchanged.
/// `email`, `number`, `refid` and `refidm` are normalised like the top-level fields, accepting JSON
/// numbers as their literal text (`"number":99988800066`) and always writing JSON strings. Other members
/// are forwarded unchanged. Problems are reported as `data.email`, `data.number`, ….
enum UTMDataRule {
    static let example = "expected a JSON object like {\"email\":\"name@example.com\",\"refid\":\"ch-api_src\"}"

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
        var problems: [FieldProblem] = []
        var normalised: [JSONMember] = []
        for member in lastValueWins(members) {
            guard let rule = innerRule(for: member.key) else {
                normalised.append(member)
                continue
            }
            let innerField = "\(field).\(member.key)"
            let text: String
            switch member.value {
            case .string(let string): text = string
            case .number(let literal): text = literal
            default:
                problems.append(FieldProblem(field: innerField, code: ProblemCode.invalidText,
                    message: "expected a string or a number for \(member.key)"))
                continue
            }
            switch rule.normalise(text, field: innerField, options: options) {
            case .success(let clean): normalised.append(JSONMember(key: member.key, value: .string(clean)))
            case .failure(let inner): problems.append(contentsOf: inner.problems)
            }
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(JSONWriter.compact(.object(normalised)))
    }

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
