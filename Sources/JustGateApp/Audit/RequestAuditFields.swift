import JustGateCore

/// The parts of a request's outcome that only the audit record carries. Personal values are masked by the
/// allowlist when the pipeline fills this in, so the raw values never sit in a record that is logged.
public struct RequestAuditFields: Sendable {
    /// `juid`, and masked e-mail, phone and IP.
    public var personal = AuditPersonalFields()
    /// Field problems with allowed field names.
    public var errors: [AuditFieldError] = []

    public init() {}
}
