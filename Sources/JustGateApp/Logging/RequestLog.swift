import JustGateServer
import Logging

/// Writes the one structured line per request. It takes the finished `RequestRecord`, which
/// carries ids, outcome and codes but never a field value, a site key or a token.
struct RequestLog {
    let logger: Logger

    func write(_ record: RequestRecord) {
        var record = record
        record.durationMs = Double(MonotonicNanos.now() &- record.receivedAtNanos) / 1_000_000
        var metadata: Logger.Metadata = [
            "request_id": .string(record.requestID),
            "method": .string(record.method),
            "status": .stringConvertible(record.status),
            "outcome": .string(record.outcome),
            "duration_ms": .stringConvertible((record.durationMs * 1000).rounded() / 1000),
            "client": .string(record.clientAddress),
        ]
        if let site = record.siteID { metadata["site"] = .string(site) }
        if let operation = record.operationID { metadata["operation"] = .string(operation) }
        if let upstream = record.upstreamStatus { metadata["upstream_status"] = .stringConvertible(upstream) }
        if !record.problemCodes.isEmpty { metadata["problems"] = .array(record.problemCodes.map { .string($0) }) }
        let level: Logger.Level = record.status >= 500 ? .error : (record.status >= 400 ? .notice : .info)
        logger.log(level: level, "request", metadata: metadata)
    }
}
