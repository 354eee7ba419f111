import JustGateCore
import JustGateHTTP

/// The work each benchmark times, as plain functions, so the fixture check at start-up runs exactly the
/// code that is then timed (a benchmark that silently measured an error path would look fast).
public enum HotPath {
    /// Why the end-to-end path did not produce a validated request; only the fixture check looks at it.
    public enum Failure: Error {
        case head(HTTPParseError)
        case incompleteHead
        case noContentLength
        case form(FormDecodingError)
        case fields(FieldProblems)
    }

    /// One request head, with the parser reused the way a keep-alive connection reuses it.
    public static func parseHead(
        _ parser: inout HTTPRequestHeadParser, _ bytes: UnsafeRawBufferPointer
    ) throws(HTTPParseError) -> (head: HTTPRequestHead, consumed: Int)? {
        try parser.parse(bytes)
    }

    /// subscribe.sms fields, with the options of a site that takes Russian national numbers.
    public static func validateSubscribeSMS(_ fields: [(name: String, value: String)]) -> Result<ValidatedRequest, FieldProblems> {
        OperationValidator.validate(
            Fixtures.subscribeSMS, pathParameter: nil, fields: fields, options: Fixtures.options, unknownFields: .reject)
    }

    /// The email rule on its own: trim, syntax scan, lowercase.
    public static func normaliseEmail(_ raw: String) -> Result<String, FieldProblems> {
        FieldRule.email.normalise(raw, field: "email", options: Fixtures.options)
    }

    /// The headline path: bytes of a whole request in, forwardable normalised fields out.
    /// Head parse, then the body the head frames, urlencoded decode, then every field rule.
    public static func parseValidateNormalise(
        _ parser: inout HTTPRequestHeadParser, _ request: UnsafeRawBufferPointer
    ) throws(Failure) -> ValidatedRequest {
        let parsed: (head: HTTPRequestHead, consumed: Int)?
        do {
            parsed = try parser.parse(request)
        } catch {
            throw .head(error)
        }
        guard let (head, consumed) = parsed else { throw .incompleteHead }
        guard case .contentLength(let length) = head.framing, consumed + length <= request.count else {
            throw .noContentLength
        }
        let fields: [(name: String, value: String)]
        do {
            fields = try URLEncodedForm.decode(UnsafeRawBufferPointer(rebasing: request[consumed..<(consumed + length)]))
        } catch {
            throw .form(error)
        }
        switch validateSubscribeSMS(fields) {
        case .success(let validated): return validated
        case .failure(let problems): throw .fields(problems)
        }
    }
}
