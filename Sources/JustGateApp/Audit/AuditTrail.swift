#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateServer

/// The audit log as the request path sees it: may a request be served, and here is how it ended. Shared by
/// all event loops; the `AuditWriter` behind it does the disk work on its own thread.
public final class AuditTrail: Sendable {
    public let writer: AuditWriter
    /// `audit.required`: refuse requests (503) while their record could not be written.
    public let isRequired: Bool

    public init(writer: AuditWriter, isRequired: Bool) {
        self.writer = writer
        self.isRequired = isRequired
    }

    /// False when a request must be refused because its record could not be kept.
    public func admits() -> Bool {
        !isRequired || writer.hasRoom()
    }

    /// Queues the audit record of a finished request.
    public func record(_ request: RequestRecord) {
        let durationMicros = Int((MonotonicNanos.now() &- request.receivedAtNanos) / 1000)
        let receivedAtMillis = AuditWriter.wallClockMillis() - Int64(durationMicros / 1000)
        writer.submit(AuditTrail.auditRecord(for: request, durationMicros: durationMicros), receivedAtMillis: receivedAtMillis)
    }

    /// The audit record of a request, from the same `RequestRecord` the log line is written from; its `time`
    /// and redacted `path` are filled in on the writer thread (`AuditRecord.finish`).
    static func auditRecord(for request: RequestRecord, durationMicros: Int) -> AuditRecord {
        var record = AuditRecord(time: "")
        record.requestID = request.requestID
        record.site = request.siteID
        record.operation = request.operationID
        record.method = request.method.isEmpty ? nil : request.method
        record.path = request.path.isEmpty ? nil : request.path
        record.client = request.clientAddress
        record.outcome = request.outcome
        record.status = request.status
        record.upstreamStatus = request.upstreamStatus
        record.durationMicros = durationMicros
        record.upstreamMicros = request.upstreamNanos.map { Int($0 / 1000) }
        record.attempts = request.attempts
        record.errors = request.audit.errors
        record.apply(request.audit.personal)
        record.policy = request.policy
        record.traceID = request.traceID
        return record
    }
}
