/// What the body of a request's audit record (`AuditRecordEncoding.body`) is written from, by way of its
/// packet (`AuditBodyPacket.pack`).
///
/// `AuditRecord` is one source; the gateway's own per-request record is the other, so that an event loop
/// packs a finished request's record straight from what it already holds. Building an `AuditRecord` on the
/// loop first cost about 300 ns per request (twenty optional values copied in and destroyed again through
/// generic value witnesses), more than writing the bytes.
public protocol AuditBodyFields: Sendable {
    var auditRequestID: String? { get }
    var auditSite: String? { get }
    /// The site key's fingerprint (12 hex digits).
    var auditKey: String? { get }
    var auditOperation: String? { get }
    var auditMethod: String? { get }
    /// The path: as the log keeps it (`AuditRedaction.path`), or as the request had it when `auditValuesAreRaw`.
    var auditPath: String? { get }
    var auditClient: String? { get }
    var auditOutcome: String? { get }
    /// An `UpstreamFailureReason` word: a static string, so handing it over costs no copy of its bytes.
    var auditReason: String? { get }
    var auditStatus: Int? { get }
    var auditUpstreamStatus: Int? { get }
    var auditUpstreamMicros: Int? { get }
    var auditAttempts: Int? { get }
    var auditErrors: [AuditFieldError] { get }
    var auditPolicy: String? { get }
    var auditTraceID: String? { get }
    /// The allowlisted personal values (`AuditAllowlist`): masked, or as validated when `auditValuesAreRaw`.
    var auditPersonal: AuditPersonalFields { get }
    var auditNote: String? { get }
    /// True when `auditPath` and `auditPersonal` are as the request had them, for the audit writer to redact
    /// and mask as it writes the record, off the event loop (`AuditRecordEncoding.body(packet:room:)`); false
    /// when they already are what the log keeps.
    var auditValuesAreRaw: Bool { get }
}

extension AuditRecord: AuditBodyFields {
    public var auditRequestID: String? { requestID }
    public var auditSite: String? { site }
    public var auditKey: String? { key }
    public var auditOperation: String? { operation }
    public var auditMethod: String? { method }
    public var auditPath: String? { path }
    public var auditClient: String? { client }
    public var auditOutcome: String? { outcome }
    public var auditReason: String? { reason }
    public var auditStatus: Int? { status }
    public var auditUpstreamStatus: Int? { upstreamStatus }
    public var auditUpstreamMicros: Int? { upstreamMicros }
    public var auditAttempts: Int? { attempts }
    public var auditErrors: [AuditFieldError] { errors }
    public var auditPolicy: String? { policy }
    public var auditTraceID: String? { traceID }
    public var auditPersonal: AuditPersonalFields {
        var personal = AuditPersonalFields()
        personal.juid = juid
        personal.email = email
        personal.phone = phone
        personal.ip = ip
        return personal
    }
    public var auditNote: String? { note }
    public var auditValuesAreRaw: Bool { false }
}
