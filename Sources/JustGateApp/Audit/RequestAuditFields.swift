import JustGateCore

/// The parts of a request's outcome that only the audit record carries.
public struct RequestAuditFields: Sendable {
    /// `juid`, e-mail, phone and IP as validated, and nothing else (`AuditAllowlist.personalValues`): not yet
    /// masked, which the audit writer does as it writes the record. The request log line never reads them.
    public var personal = AuditPersonalFields()
    /// Field problems with allowed field names.
    public var errors: [AuditFieldError] = []

    public init() {}
}
