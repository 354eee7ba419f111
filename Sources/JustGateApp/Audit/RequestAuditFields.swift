import JustGateCore

/// The parts of a request's outcome that only the audit record carries.
public struct RequestAuditFields: Sendable {
    /// `juid`, e-mail, phone and IP as validated, and nothing else (`AuditAllowlist.personalValues`): not yet
    /// masked, which the audit writer does as it writes the record. The request log line never reads them.
    /// Unmasked, they also sit in the loop's lane until the writer's next batch and in its reused memory
    /// until overwritten, as the request's own body and validated fields sit in freed memory: nothing of it
    /// is written anywhere but masked.
    public var personal = AuditPersonalFields()
    /// Field problems with allowed field names.
    public var errors: [AuditFieldError] = []

    public init() {}
}
