/// What happened to one request, built up as it moves through the pipeline. The request log
/// line is written from it, and later stages (metrics, audit) read the same record rather than
/// re-deriving anything.
public struct RequestRecord: Sendable {
    public var requestID: String
    public var method: String
    public var path: String
    public var clientAddress: String
    public var siteID: String?
    public var operationID: String?
    public var status: Int = 0
    /// A short machine word for how the request ended: "forwarded", "rejected", "upstream_error", "client_gone".
    public var outcome: String = ""
    public var upstreamStatus: Int?
    /// For field problems: their codes, so logs show why without showing values.
    public var problemCodes: [String] = []
    public var receivedAtNanos: UInt64
    /// What only the audit record needs: masked personal values, allowed error entries, upstream timing.
    public var audit = RequestAuditFields()
}
