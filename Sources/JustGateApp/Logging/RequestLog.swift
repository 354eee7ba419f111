import JustGateCore
import JustGateReactor
import JustGateUpstream
import Logging

/// Writes the one structured line per request. It takes the finished `RequestRecord`, which
/// carries ids, outcome and codes but never a field value, a site key or a token.
///
/// This is the only log line on the hot path, and through swift-log it cost about 3 µs a request
/// (a metadata dictionary, a key sort and a `String` per value: 7 % of the gateway's CPU under
/// load in perf). So it is encoded here, byte by byte into a buffer the loop reuses, in exactly the
/// shape `JSONLogHandler` gives every other line: `time`, `level`, `logger`, `message`, then the
/// keys in sorted order. One instance per event loop; confined to it.
final class RequestLog {
    private let sink: LogSink
    private let label: String
    private let threshold: Logger.Level
    private var line: [UInt8] = []

    /// - Parameters:
    ///   - label: the `logger` field, the label of the gateway's swift-log logger.
    ///   - threshold: lines below this level are not written, as for any swift-log logger.
    init(sink: LogSink, label: String, threshold: Logger.Level) {
        self.sink = sink
        self.label = label
        self.threshold = threshold
        line.reserveCapacity(512)
    }

    /// - Parameter endedAtNanos: the monotonic clock at the answer, for `duration_ms`.
    func write(_ record: RequestRecord, endedAtNanos: UInt64 = MonotonicInstant.now().nanoseconds) {
        // An upstream that echoed the site's token, or refused the gateway's own (a wrong `upstream_token`), is
        // an incident for the operator, whatever the status.
        let incident = record.upstreamTokenRedacted || record.failureReason == .upstreamAuthFailed
        let level = incident ? max(.warning, RequestLog.level(forStatus: record.status))
            : RequestLog.level(forStatus: record.status)
        guard level >= threshold else { return }
        let durationMicros = Int((endedAtNanos &- record.receivedAtNanos) / 1000)
        line.removeAll(keepingCapacity: true)
        RequestLog.encode(record, level: level, label: label, durationMicros: durationMicros, to: &line)
        sink.write(line)
    }

    /// Server errors are `error`, client errors `notice` (visible at the default level, but not
    /// alarming), everything else `info`.
    static func level(forStatus status: Int) -> Logger.Level {
        status >= 500 ? .error : (status >= 400 ? .notice : .info)
    }

    /// The line for `record`, without the newline the sink adds.
    static func encode(_ record: RequestRecord, level: Logger.Level, label: String, durationMicros: Int,
                       to out: inout [UInt8]) {
        /// `,"key":"value"`, the key given with its leading comma and quotes.
        func text(_ key: StaticString, _ value: String) {
            JSONBytesWriter.appendRaw(key, to: &out)
            JSONBytesWriter.appendQuoted(value, to: &out)
        }
        func number(_ key: StaticString, _ value: Int) {
            JSONBytesWriter.appendRaw(key, to: &out)
            JSONBytesWriter.appendInteger(value, to: &out)
        }
        JSONBytesWriter.appendRaw("{\"time\":\"", to: &out)
        LogTimestamp.append(to: &out)
        out.append(0x22)
        text(",\"level\":", level.rawValue)
        text(",\"logger\":", label)
        text(",\"message\":", "request")
        number(",\"attempts\":", record.attempts)
        text(",\"client\":", record.clientAddress)
        JSONBytesWriter.appendRaw(",\"duration_ms\":", to: &out)
        JSONBytesWriter.appendThousandths(durationMicros, to: &out)
        if let key = record.keyFingerprint { text(",\"key\":", key) }
        text(",\"method\":", record.method)
        if let operation = record.operationID { text(",\"operation\":", operation) }
        text(",\"outcome\":", record.outcome?.rawValue ?? "")
        if let policy = record.policy { text(",\"policy\":", policy) }
        if !record.problemCodes.isEmpty {
            JSONBytesWriter.appendRaw(",\"problems\":[", to: &out)
            for (index, code) in record.problemCodes.enumerated() {
                if index > 0 { out.append(0x2C) }
                JSONBytesWriter.appendQuoted(code, to: &out)
            }
            out.append(0x5D)
        }
        if let reason = record.failureReason { text(",\"reason\":", reason.rawValue) }
        text(",\"request_id\":", record.recordedRequestID)
        if record.requestIDReplacement != nil { JSONBytesWriter.appendRaw(",\"request_id_replaced\":true", to: &out) }
        if let site = record.siteID { text(",\"site\":", site) }
        number(",\"status\":", record.status)
        if let trace = record.traceID { text(",\"trace_id\":", trace) }
        if let upstream = record.upstreamStatus { number(",\"upstream_status\":", upstream) }
        if record.upstreamTokenRedacted { JSONBytesWriter.appendRaw(",\"upstream_token_redacted\":true", to: &out) }
        out.append(0x7D)
    }
}
