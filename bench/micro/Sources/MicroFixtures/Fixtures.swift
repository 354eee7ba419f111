#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JustGateCore
import JustGateHTTP

/// The exact bytes and settings every benchmark works on, built once before any timing starts, so a
/// benchmark measures the code under test and never the building of its input.
///
/// The requests are the ones `bench/wrk/*.lua` sends to the running gateway, so a micro number and a
/// wrk number describe the same request.
public enum Fixtures {
    /// The urlencoded body of `bench/wrk/subscribe.sms.lua`: a juid and a phone number as a person types it.
    public static let subscribeBody = "juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89"

    /// A subscribe.sms head with the six fields a PHP or curl client typically sends.
    public static let subscribeHead =
        "POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\n"
        + "Host: justgate.internal:8080\r\n"
        + "X-AUTH-TOKEN: bench-site-key-7f3c9a2e51d84b06\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: \(subscribeBody.utf8.count)\r\n"
        + "User-Agent: curl/7.88.1\r\n"
        + "Accept: */*\r\n"
        + "\r\n"

    /// The head alone, as the parser sees it when the body has not arrived yet.
    public static let subscribeHeadBytes: [UInt8] = Array(subscribeHead.utf8)

    /// Head and body in one buffer, as one read from a keep-alive connection usually delivers them.
    public static let subscribeRequestBytes: [UInt8] = Array((subscribeHead + subscribeBody).utf8)

    /// The body alone, for the urlencoded decoder.
    public static let subscribeBodyBytes: [UInt8] = Array(subscribeBody.utf8)

    /// The boundary curl picks has this shape; fixed so every run sees identical bytes.
    public static let multipartBoundary = "------------------------e791677246f67b82"

    /// The Content-Type of the action.save request, for the media-type benchmark.
    public static let multipartContentType = "multipart/form-data; boundary=\(multipartBoundary)"

    /// `curl --form juid=... --form tags=1,2,3 --form label=login`, byte for byte (bench/wrk/action.save.lua).
    public static let multipartBodyBytes: [UInt8] = {
        func part(_ name: String, _ value: String) -> String {
            "--\(multipartBoundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        let body = part("juid", "de6f0132ea9e412599ae31262c45633b") + part("tags", "1,2,3") + part("label", "login")
            + "--\(multipartBoundary)--\r\n"
        return Array(body.utf8)
    }()

    /// A small JSON body a site might post instead of a form (flat strings, as JSON-speaking sites send).
    public static let jsonBodyBytes: [UInt8] = Array(
        #"{"juid":"de6f0132ea9e412599ae31262c45633b","number":"8 (912) 345-67-89","refid":"spring-2026","utmSource":"newsletter"}"#
            .utf8)

    /// A site with Russian numbering: national numbers get 7, a leading trunk 8 becomes 7.
    /// The clock is fixed so every run normalises the same way.
    public static let options = ValidationOptions(now: 1_767_225_600, phoneDefaultCountryCode: "7", phoneTrunkPrefix: "8")

    /// subscribe.sms from the standard catalogue, looked up once as the router does at start-up.
    public static let subscribeSMS: OperationSpec = operation("subscribe.sms")

    /// The decoded form fields, for the validation-only benchmark.
    public static let subscribeFields: [(name: String, value: String)] = [
        ("juid", "de6f0132ea9e412599ae31262c45633b"),
        ("number", "8 (912) 345-67-89"),
    ]

    private static func operation(_ id: String) -> OperationSpec {
        guard let spec = Catalogue().operation(id: id) else { fail("the catalogue has no operation \(id)") }
        return spec
    }
}

/// Stops the run with a message: a benchmark of an error path would report a misleading number.
func fail(_ message: String) -> Never {
    let line = Array("JustGateMicro: fixture check failed: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

extension Fixtures {
    /// The validated fields of the subscribe.sms fixture, as the limit stage receives them.
    public static var validatedSubscribe: ValidatedRequest {
        guard case .success(let validated) = HotPath.validateSubscribeSMS(subscribeFields) else {
            fail("the subscribe.sms fixture does not validate")
        }
        return validated
    }

    /// One check of `policy` for the validated subscribe.sms fixture.
    public static func quotaChecks(_ policy: CompiledPolicy) -> [QuotaCheck] {
        guard let check = policy.check(operationID: "subscribe.sms", fields: validatedSubscribe) else {
            fail("the subscribe.sms fixture has no number for the per-number policy")
        }
        return [check]
    }
}

extension Fixtures {
    /// The audit record of a forwarded subscribe.sms, with the values a real one carries (ids as long as
    /// justgate's, the phone masked by the allowlist).
    public static var auditRecord: AuditRecord {
        var record = AuditRecord(time: "")
        record.requestID = "01J9ZC4V6Q8N2M7K5T3R1X0W9Y"
        record.site = "horoscope-daily"
        record.key = "3fc658ad7925"
        record.operation = "subscribe.sms"
        record.method = "POST"
        record.path = "/api/user/v1/subscription/subscribe/sms"
        record.client = "127.0.0.1"
        record.outcome = "forwarded"
        record.status = 200
        record.upstreamStatus = 200
        record.durationMicros = 1_234
        record.upstreamMicros = 987
        record.attempts = 1
        record.traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        record.apply(AuditAllowlist(catalogue: Catalogue()).personalValues(of: validatedSubscribe).masked)
        guard record.phone == "7912*****89", record.juid == "de6f0132ea9e412599ae31262c45633b" else {
            fail("the audit allowlist did not mask the subscribe.sms fixture as expected")
        }
        return record
    }

    /// The same request as an event loop packs it: the path and the personal values as validated, for the
    /// writer to redact and mask (`AuditBodyFields.auditValuesAreRaw`).
    public static var loopAuditFields: LoopAuditFields {
        LoopAuditFields(record: auditRecord, personal: AuditAllowlist(catalogue: Catalogue()).personalValues(of: validatedSubscribe))
    }
}

/// `Fixtures.auditRecord` with unmasked personal values, the way the gateway's own request record hands them over.
public struct LoopAuditFields: AuditBodyFields {
    let record: AuditRecord
    let personal: AuditPersonalFields

    public var auditRequestID: String? { record.requestID }
    public var auditSite: String? { record.site }
    public var auditKey: String? { record.key }
    public var auditOperation: String? { record.operation }
    public var auditMethod: String? { record.method }
    public var auditPath: String? { record.path }
    public var auditClient: String? { record.client }
    public var auditOutcome: String? { record.outcome }
    public var auditReason: String? { record.reason }
    public var auditStatus: Int? { record.status }
    public var auditUpstreamStatus: Int? { record.upstreamStatus }
    public var auditUpstreamMicros: Int? { record.upstreamMicros }
    public var auditAttempts: Int? { record.attempts }
    public var auditErrors: [AuditFieldError] { record.errors }
    public var auditPolicy: String? { record.policy }
    public var auditTraceID: String? { record.traceID }
    public var auditPersonal: AuditPersonalFields { personal }
    public var auditNote: String? { record.note }
    public var auditValuesAreRaw: Bool { true }
}
