import JustGateCore
import Testing

/// The catalogue and its router as plain values: every operation and alias, trailing slashes,
/// 404 and 405, and config overrides.
struct CatalogueRouterTests {
    let router = OperationRouter(catalogue: Catalogue())
    let catalogue = Catalogue()

    func operationID(_ method: String, _ path: String) -> String? {
        guard case .operation(let index, _) = router.match(method: method, path: path) else { return nil }
        return catalogue.operations[index].id
    }

    @Test(arguments: [
        ("POST", "/api/user/v1/subscription/create/profile", "profile.create"),
        ("POST", "/api/user/v1/subscription/subscribe/email/", "subscribe.email"),
        ("POST", "/api/user/v1/subscription/subscribe/sms", "subscribe.sms"),
        ("PUT", "/api/user/v1/subscription/unsubscribe/email", "unsubscribe.email"),
        ("POST", "/api/user/v1/subscription/unsubscribe/email", "unsubscribe.email"),
        ("PUT", "/api/user/v1/subscription/unsubscribe/sms/", "unsubscribe.sms"),
        ("POST", "/api/user/v1/subscription/unsubscribe/sms", "unsubscribe.sms"),
        ("PUT", "/api/user/v1/subscription/update/utm-metric/channel/email", "utm.update"),
        ("POST", "/api/user/v1/subscription/update/utm-metric/channel/push/", "utm.update"),
        ("POST", "/api/user/v1/action/", "action.save"),
        ("POST", "/api/user/v1/action", "action.save"),
        ("GET", "/api/user/v1/info/segment/", "segments.get"),
        ("GET", "/api/user/v1/info/segments", "segments.get"),
        ("POST", "/api/user/v1/info/segments/", "segments.get"),
        ("GET", "/api/user/v1/stat/get-count-refid/sms", "stat.count_by_refid"),
        ("GET", "/api/user/v1/info/stat-by-refid/channel/email", "stat.by_refid"),
        ("GET", "/api/user/v1/stat/stat-by-refid/channel/sms/", "stat.by_refid"),
    ])
    func everyOperationAndAliasIsFound(method: String, path: String, id: String) {
        #expect(operationID(method, path) == id)
    }

    @Test func thePathParameterIsBoundRaw() {
        #expect(router.match(method: "GET", path: "/api/user/v1/stat/get-count-refid/SMS")
                == .operation(index: 8, pathParameter: "SMS"))
        #expect(catalogue.operations[8].id == "stat.count_by_refid")
    }

    @Test func unknownPathsAreNotFound() {
        for path in ["/", "", "/api/user/v1", "/api/user/v1/action/extra", "/api/user/v1//action",
                     "/api/user/v1/stat/get-count-refid/", "/api/user/v1/stat/get-count-refid//"] {
            #expect(router.match(method: "GET", path: path) == .notFound, "\(path)")
        }
    }

    @Test func aKnownPathWithAnotherMethodListsTheAllowedOnes() {
        #expect(router.match(method: "GET", path: "/api/user/v1/action/") == .methodNotAllowed(allowed: ["POST"]))
        #expect(router.match(method: "DELETE", path: "/api/user/v1/subscription/unsubscribe/sms")
                == .methodNotAllowed(allowed: ["PUT", "POST"]))
    }

    @Test func configOverridesChangeTheForwardedCallAndAreAcceptedFromSites() {
        let overridden = catalogue.overriding(["unsubscribe.email": (method: "PATCH", path: "/v2/unsubscribe")])
        let operation = overridden.operation(id: "unsubscribe.email")
        #expect(operation?.method == "PATCH")
        #expect(operation?.path == "/v2/unsubscribe")
        #expect(operation?.acceptedMethods.contains("PATCH") == true)
        #expect(operation?.acceptedMethods.contains("PUT") == true)
    }

    @Test func everyOperationHasItsReferenceRequiredFields() {
        let required = Dictionary(uniqueKeysWithValues: catalogue.operations.map {
            ($0.id, $0.allFields.filter(\.required).map(\.name))
        })
        #expect(required["profile.create"] == [])
        #expect(required["subscribe.email"] == ["juid", "email"])
        #expect(required["subscribe.sms"] == ["juid", "number"])
        #expect(required["unsubscribe.email"] == ["juid", "email"])
        #expect(required["unsubscribe.sms"] == ["juid", "number"])
        #expect(required["utm.update"] == ["channel", "data"])
        #expect(required["action.save"] == ["juid", "tags", "label"])
        #expect(required["segments.get"] == ["juid"])
        #expect(required["stat.count_by_refid"] == ["channel", "startDate", "endDate"])
        #expect(required["stat.by_refid"] == ["channel", "start", "end"])
    }
}

/// The operation-level validator: required, unknown, duplicate and ordered fields.
struct OperationValidatorTests {
    let options = ValidationOptions(now: 1_700_000_000, phoneDefaultCountryCode: "7", phoneTrunkPrefix: "8")

    func validate(_ id: String, _ fields: [(String, String)], parameter: String? = nil,
                  unknown: UnknownFieldPolicy = .reject) -> Result<ValidatedRequest, FieldProblems> {
        let operation = Catalogue().operation(id: id)!
        return OperationValidator.validate(operation, pathParameter: parameter,
                                           fields: fields.map { (name: $0.0, value: $0.1) },
                                           options: options, unknownFields: unknown)
    }

    func codes(_ result: Result<ValidatedRequest, FieldProblems>) -> [String] {
        guard case .failure(let failure) = result else { return [] }
        return failure.problems.map { "\($0.field):\($0.code)" }
    }

    @Test func normalisedFieldsComeOutInCatalogueOrder() throws {
        let result = validate("subscribe.sms", [("refid", " ch-1 "), ("number", "8 (912) 345-67-89"),
                                                ("juid", "DE6F0132EA9E412599AE31262C45633B")])
        let validated = try result.get()
        #expect(validated.fields.map(\.name) == ["juid", "number", "refid"])
        #expect(validated.fields.map(\.value) == ["de6f0132ea9e412599ae31262c45633b", "79123456789", "ch-1"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let result = validate("subscribe.email", [("juid", "x"), ("colour", "red"), ("colour", "blue"), ("email", "a@b.co"),
                                                  ("email", "c@d.co")])
        #expect(codes(result) == ["colour:unknown_field", "email:duplicate_field", "juid:invalid_juid"])
    }

    @Test func blankRequiredFieldsAreMissingAndBlankOptionalOnesAreDropped() throws {
        #expect(codes(validate("action.save", [("juid", "  "), ("tags", "a"), ("label", "x")])) == ["juid:required"])
        let validated = try validate("subscribe.email", [("juid", "de6f0132ea9e412599ae31262c45633b"),
                                                         ("email", "a@b.co"), ("refid", "")]).get()
        #expect(validated.value(of: "refid") == nil)
    }

    @Test func unknownFieldsCanBeDropped() throws {
        let validated = try validate("segments.get", [("juid", "de6f0132ea9e412599ae31262c45633b"), ("x", "1")],
                                     unknown: .drop).get()
        #expect(validated.fields.map(\.name) == ["juid"])
    }

    @Test func reversedRangesAreReported() {
        #expect(codes(validate("stat.count_by_refid", [("startDate", "1655183571"), ("endDate", "1642137171")], parameter: "sms"))
                == ["startDate:reversed_range"])
        #expect(codes(validate("stat.by_refid", [("start", "2020-11-29"), ("end", "2020-08-11 20:38:49")], parameter: "email"))
                == ["start:reversed_range"])
    }

    @Test func thePathParameterIsValidatedLikeAField() {
        #expect(codes(validate("stat.count_by_refid", [("startDate", "1"), ("endDate", "2")], parameter: "push"))
                == ["channel:invalid_channel"])
        #expect(codes(validate("stat.count_by_refid", [("startDate", "1"), ("endDate", "2"), ("channel", "sms")], parameter: "sms"))
                == ["channel:unknown_field"])
    }
}
