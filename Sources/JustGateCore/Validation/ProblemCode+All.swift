extension ProblemCode {
    /// Every code, in declaration order: the list a client can switch over, published as the enum of
    /// `FieldProblem.code` in the OpenAPI document. A test compares it with the constants declared in
    /// `FieldProblem.swift`, so a new code cannot be left out of the published contract.
    public static let all: [String] = [
        required, unknownField, invalidEmail, invalidPhone, invalidIP, nonPublicIP, invalidJUID, invalidName,
        invalidGender, genderNotAllowed, invalidDate, dateInFuture, dateTooEarly, invalidChannel, invalidTags,
        invalidLabel, invalidText, invalidURL, invalidJSON, notAnObject, tooLong, empty, controlCharacters,
        reversedRange, duplicateField,
    ]
}
