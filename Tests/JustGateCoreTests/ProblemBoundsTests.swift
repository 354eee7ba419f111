import Foundation
import Testing
@testable import JustGateCore

/// Issue 12: a request with thousands of bad fields gets a bounded, de-duplicated answer, found
/// in time linear in its fields; a blank name is refused; secrets are cut out of relayed bytes.
@Suite struct ProblemBoundsTests {
    let profile = Catalogue.standardOperations[0]

    func validate(_ fields: [(name: String, value: String)], unknown: UnknownFieldPolicy = .reject) -> Result<ValidatedRequest, FieldProblems> {
        OperationValidator.validate(profile, pathParameter: nil, fields: fields, options: plainOptions, unknownFields: unknown)
    }

    @Test func manyDistinctUnknownFieldsAreListedUpToTheLimitAndCounted() throws {
        let fields = (0..<20_000).map { (name: "unknown\($0)", value: "") }
        guard case .failure(let failure) = validate(fields) else { Issue.record("accepted"); return }
        #expect(failure.problems.count == ProblemCollector.defaultLimit)
        #expect(failure.omitted == 20_000 - ProblemCollector.defaultLimit)
    }

    @Test func aLongUnknownNameRepeatedIsOneProblem() throws {
        let name = String(repeating: "n", count: 40)
        guard case .failure(let failure) = validate(Array(repeating: (name: name, value: "x"), count: 5000)) else {
            Issue.record("accepted"); return
        }
        #expect(failure.problems.count == 1)
        #expect(failure.omitted == 0)
    }

    @Test func aRepeatedKnownFieldIsOneDuplicateProblem() throws {
        guard case .failure(let failure) = validate(Array(repeating: (name: "name", value: "Al"), count: 5000)) else {
            Issue.record("accepted"); return
        }
        #expect(failure.problems.map(\.code) == [ProblemCode.duplicateField])
    }

    @Test func aBlankNameIsEmptyButBlankOptionalTextIsAbsent() throws {
        guard case .failure(let failure) = validate([(name: "name", value: "  \t ")]) else { Issue.record("accepted"); return }
        #expect(failure.problems.map(\.code) == [ProblemCode.empty])
        #expect(failure.problems.map(\.field) == ["name"])
        #expect(throws: Never.self) { try validate([(name: "name", value: "Al"), (name: "gender", value: "  ")]).get() }
    }

    @Test func aProblemDocumentStaysUnder16KiBWhateverItLists() throws {
        // The largest problems there are: long escaped fields and messages, far more than fit.
        let hostile = String(repeating: "\u{1}\u{202E}\"\\", count: 200)
        let errors = (0..<ProblemCollector.defaultLimit).map {
            FieldProblem(field: hostile + "\($0)", code: ProblemCode.unknownField, message: hostile + hostile)
        }
        let problem = ProblemDetails(.invalidFields, detail: "50 fields are invalid", requestID: "r", errors: errors, errorsOmitted: 7)
        let body = problem.json()
        #expect(body.utf8.count < ProblemDetails.maxBodyBytes)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let listed = (json["errors"] as? [Any])?.count ?? 0
        #expect(listed + (json["errors_truncated"] as? Int ?? 0) == ProblemCollector.defaultLimit + 7)
    }

    @Test func anUntruncatedDocumentHasNoTruncationCount() {
        let problem = ProblemDetails(.invalidFields, detail: "d", requestID: "r",
                                     errors: [FieldProblem(field: "a", code: "empty", message: "m")])
        #expect(!problem.json().contains("errors_truncated"))
    }

    @Test func secretsAreRedactedEverywhereInABody() {
        let body = Array("tok tok-SECRET-x and tok-SECRET-".utf8)
        #expect(SecretRedaction.redact("tok-SECRET-", in: body).map { String(decoding: $0, as: UTF8.self) }
            == "tok [redacted]x and [redacted]")
        #expect(SecretRedaction.redact("absent", in: body) == nil)
        #expect(SecretRedaction.redact("", in: body) == nil)
    }
}
