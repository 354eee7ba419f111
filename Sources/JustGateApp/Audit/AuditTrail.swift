#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateReactor

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

    /// False when a request must be refused because its record could not be kept; `lane` is the calling loop's.
    public func admits(lane: AuditWriter.Lane? = nil) -> Bool {
        !isRequired || writer.hasRoom(in: lane)
    }

    /// A lane for one event loop's records (`AuditWriter.Lane`).
    public func makeLane() -> AuditWriter.Lane {
        writer.makeLane()
    }

    /// Queues the audit record of a finished request, into the calling loop's `lane` (`nil` off a loop). The
    /// record is packed here, straight from `request` (see `RequestRecord+AuditBodyFields`); its `time` is
    /// written by the writer thread, from the moment the request arrived. `endedAtNanos` is the monotonic
    /// clock the request's log line measured its duration with, so both say the same.
    public func record(_ request: RequestRecord, lane: AuditWriter.Lane? = nil, endedAtNanos: UInt64 = MonotonicInstant.now().nanoseconds) {
        let durationMicros = Int((endedAtNanos &- request.receivedAtNanos) / 1000)
        let receivedAtMillis = AuditWriter.wallClockMillis() - Int64(durationMicros / 1000)
        writer.submit(request, durationMicros: durationMicros, receivedAtMillis: receivedAtMillis, lane: lane,
                      endedAtNanos: endedAtNanos)
    }
}
