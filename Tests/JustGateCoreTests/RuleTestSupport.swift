@testable import JustGateCore

/// 2026-01-01T00:00:00Z: the injected "now" for every rule test.
let testNow: Int64 = 1_767_225_600

let plainOptions = ValidationOptions(now: testNow)
let russianSiteOptions = ValidationOptions(now: testNow, phoneDefaultCountryCode: "7", phoneTrunkPrefix: "8")

/// The normalised value, or nil when the rule rejects it.
func accepted(_ rule: FieldRule, _ raw: String, _ options: ValidationOptions = plainOptions, field: String = "f") -> String? {
    try? rule.normalise(raw, field: field, options: options).get()
}

/// The problem codes for a value, empty when accepted.
func problemCodes(_ rule: FieldRule, _ raw: String, _ options: ValidationOptions = plainOptions) -> [String] {
    switch rule.normalise(raw, field: "f", options: options) {
    case .success: return []
    case .failure(let problems): return problems.problems.map(\.code)
    }
}

/// The problems for a value, empty when accepted.
func problems(_ rule: FieldRule, _ raw: String, _ options: ValidationOptions = plainOptions, field: String = "f") -> [FieldProblem] {
    switch rule.normalise(raw, field: field, options: options) {
    case .success: return []
    case .failure(let problems): return problems.problems
    }
}
