/// A request's fields after every rule passed: normalised, in canonical order, ready to forward.
public struct ValidatedRequest: Sendable, Equatable {
    /// The normalised path parameter (`channel`), if the operation has one.
    public var pathParameter: String?
    public var fields: [NormalisedField]

    /// The normalised value of `name`, for rate-limit keys and audit records.
    public func value(of name: String) -> String? {
        fields.first { $0.name == name }?.value
    }
}

/// One forwarded field.
public struct NormalisedField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Applies an operation's field specs to what a site sent, collecting every problem at once so a
/// site developer fixes a form in one round trip rather than one error at a time.
///
/// Linear in the number of fields: a field's spec is found among the operation's handful of specs,
/// and repeats are recognised with hash sets, never by scanning the problems found so far.
public enum OperationValidator {
    public static func validate(
        _ operation: OperationSpec,
        pathParameter: String?,
        fields: [(name: String, value: String)],
        options: ValidationOptions,
        unknownFields: UnknownFieldPolicy
    ) -> Result<ValidatedRequest, FieldProblems> {
        var options = options
        options.unknownFields = unknownFields
        var problems = ProblemCollector()
        // Raw values by the position of their spec: a linear scan of a handful of names beats
        // hashing, and nothing here allocates per field on the hot path.
        var raw = [RawField](repeating: RawField(), count: operation.fields.count)
        var unknownNames: Set<String> = []
        for (name, value) in fields {
            guard let position = operation.fields.firstIndex(where: { $0.name == name }) else {
                if unknownFields == .reject && unknownNames.insert(name).inserted {
                    let shown = ProblemText.excerpt(name)
                    problems.append(field: shown, code: ProblemCode.unknownField,
                                    message: unknownFieldMessage(shown, operation: operation))
                }
                continue
            }
            if raw[position].value != nil {
                if !raw[position].repeated {
                    raw[position].repeated = true
                    problems.append(FieldProblem(field: name, code: ProblemCode.duplicateField,
                                                 message: "send '\(name)' once; it appeared more than once"))
                }
                continue
            }
            raw[position].value = value
        }

        var normalisedParameter: String?
        if let spec = operation.pathParameter {
            normalisedParameter = apply(spec, raw: pathParameter, options: options, problems: &problems)
        }
        var normalised: [NormalisedField] = []
        normalised.reserveCapacity(operation.fields.count)
        for (position, spec) in operation.fields.enumerated() {
            if let value = apply(spec, raw: raw[position].value, options: options, problems: &problems) {
                normalised.append(NormalisedField(name: spec.name, value: value))
            }
        }
        for range in operation.ranges {
            guard let start = normalised.first(where: { $0.name == range.start })?.value,
                  let end = normalised.first(where: { $0.name == range.end })?.value,
                  let problem = FieldRange.problem(startField: range.start, start: start, endField: range.end, end: end)
            else { continue }
            problems.append(problem)
        }
        guard problems.isEmpty else { return .failure(problems.failure) }
        return .success(ValidatedRequest(pathParameter: normalisedParameter, fields: normalised))
    }

    /// Normalises one field. A missing optional field is left out, and so is a blank one (spaces and
    /// tabs only), except where the rule itself refuses blank text (`name`: `empty`).
    private static func apply(_ spec: FieldSpec, raw: String?, options: ValidationOptions, problems: inout ProblemCollector) -> String? {
        let isBlank = raw.map { $0.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 } } ?? true
        guard let raw, !isBlank || (spec.rule.refusesBlank && !spec.required) else {
            if spec.required {
                problems.append(FieldProblem(field: spec.name, code: ProblemCode.required,
                                             message: "'\(spec.name)' is required: \(spec.summary)"))
            }
            return nil
        }
        switch spec.rule.normalise(raw, field: spec.name, options: options) {
        case .success(let value):
            return value
        case .failure(let failure):
            problems.append(contentsOf: failure)
            return nil
        }
    }

    /// What a site sent for one of the operation's fields, and whether it sent it more than once. One array
    /// of these per request, of a nominal type: an array of tuples needs its metadata looked up at run time.
    private struct RawField {
        var value: String?
        var repeated = false
    }

    private static func unknownFieldMessage(_ shown: String, operation: OperationSpec) -> String {
        let known = operation.fields.map(\.name).joined(separator: ", ")
        return "'\(shown)' is not a field of \(operation.id); it takes: \(known)"
    }
}
