import JustGateCore
import JustGateHTTP

/// Runs every benchmarked operation once and compares the result with what the gateway must produce,
/// before anything is timed: a fixture that fails validation would otherwise be timed as an error path.
public enum FixtureCheck {
    static let expectedSubscribeFields = [
        NormalisedField(name: "juid", value: "de6f0132ea9e412599ae31262c45633b"),
        NormalisedField(name: "number", value: "79123456789"),
    ]

    /// Exits with a message naming the first fixture whose result is wrong.
    public static func run() {
        checkHead()
        checkForms()
        checkValidation()
        checkEndToEnd()
        checkJSON()
    }

    private static func checkHead() {
        var parser = HTTPRequestHeadParser()
        let parsed = Fixtures.subscribeHeadBytes.withUnsafeBytes { raw in
            try? HotPath.parseHead(&parser, raw)
        }
        guard let (head, consumed) = parsed else { fail("the subscribe.sms head does not parse") }
        guard head.method == "POST", head.target == "/api/user/v1/subscription/subscribe/sms", head.headers.count == 6,
              head.framing == .contentLength(Fixtures.subscribeBodyBytes.count),
              consumed == Fixtures.subscribeHeadBytes.count
        else { fail("the subscribe.sms head parsed as \(head.method) \(head.target), \(head.headers.count) headers, \(head.framing)") }
        guard let mediaType = MediaType(parsing: Fixtures.multipartContentType),
              mediaType.parameters["boundary"] == Fixtures.multipartBoundary
        else { fail("the multipart Content-Type does not parse") }
    }

    private static func checkForms() {
        let form = Fixtures.subscribeBodyBytes.withUnsafeBytes { raw in try? URLEncodedForm.decode(raw) }
        guard let form, form.map(\.name) == ["juid", "number"], form[1].value == "8 (912) 345-67-89" else {
            fail("the urlencoded body decoded as \(String(describing: form))")
        }
        let parts = Fixtures.multipartBodyBytes.withUnsafeBytes { raw in
            try? MultipartFormData.decode(raw, boundary: Fixtures.multipartBoundary)
        }
        guard let parts, parts.map(\.name) == ["juid", "tags", "label"], parts.map(\.value)[1...] == ["1,2,3", "login"] else {
            fail("the multipart body decoded as \(String(describing: parts))")
        }
    }

    private static func checkValidation() {
        guard case .success(let validated) = HotPath.validateSubscribeSMS(Fixtures.subscribeFields),
              validated.fields == expectedSubscribeFields
        else { fail("subscribe.sms validation gave \(HotPath.validateSubscribeSMS(Fixtures.subscribeFields))") }
        guard case .success("email@example.com") = HotPath.normaliseEmail("Email@Example.COM") else {
            fail("the email rule gave \(HotPath.normaliseEmail("Email@Example.COM"))")
        }
    }

    private static func checkEndToEnd() {
        var parser = HTTPRequestHeadParser()
        let result = Fixtures.subscribeRequestBytes.withUnsafeBytes { raw in
            Result { () throws(HotPath.Failure) in try HotPath.parseValidateNormalise(&parser, raw) }
        }
        guard case .success(let validated) = result, validated.fields == expectedSubscribeFields else {
            fail("parse + validate + normalise gave \(result)")
        }
    }

    private static func checkJSON() {
        let value = Fixtures.jsonBodyBytes.withUnsafeBytes { raw in try? JSONParser.parse(raw) }
        guard case .object(let members)? = value, members.count == 4, members[0].value == .string("de6f0132ea9e412599ae31262c45633b")
        else { fail("the JSON body parsed as \(String(describing: value))") }
    }
}
