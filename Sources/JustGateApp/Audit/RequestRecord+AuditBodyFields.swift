import JustGateCore

/// A finished request as its audit record reads it: the same values the request log line is written from.
/// The path and the allowlisted personal values are packed as the request had them; the audit writer redacts
/// and masks them as it writes the record (`auditValuesAreRaw`), so an event loop spends nothing on either.
extension RequestRecord: AuditBodyFields {
    public var auditRequestID: String? { recordedRequestID }
    public var auditSite: String? { siteID }
    public var auditKey: String? { keyFingerprint }
    public var auditOperation: String? { operationID }
    public var auditMethod: String? { method.isEmpty ? nil : method }
    public var auditPath: String? { path.isEmpty ? nil : path }
    public var auditClient: String? { clientAddress }
    public var auditOutcome: String? { outcome?.rawValue }
    public var auditReason: String? { failureReason?.rawValue }
    public var auditStatus: Int? { status }
    public var auditUpstreamStatus: Int? { upstreamStatus }
    public var auditUpstreamMicros: Int? { upstreamNanos.map { Int($0 / 1000) } }
    public var auditAttempts: Int? { attempts }
    public var auditErrors: [AuditFieldError] { audit.errors }
    public var auditPolicy: String? { policy }
    public var auditTraceID: String? { traceID }
    public var auditPersonal: AuditPersonalFields { audit.personal }
    public var auditNote: String? { nil }
    public var auditValuesAreRaw: Bool { true }
}
