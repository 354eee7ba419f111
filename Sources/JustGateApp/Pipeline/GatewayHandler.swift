import JustGateHTTP
import JustGateServer
import JustGateUpstream
import Logging

/// The gateway's per-loop handler: runs the pipeline, makes the upstream call on this loop's
/// libcurl client, answers, and hands the request's record to the outcome hook (log line, audit).
final class GatewayHandler: HTTPHandler {
    private let pipeline: RequestPipeline
    private let upstream: UpstreamClient
    private let outcomes: RequestOutcomes

    init(pipeline: RequestPipeline, upstream: UpstreamClient, outcomes: RequestOutcomes) {
        self.pipeline = pipeline
        self.upstream = upstream
        self.outcomes = outcomes
    }

    func handle(_ request: ServerRequest, responder: Responder) {
        guard outcomes.admits() else {
            responder.respond(outcomes.refusal(for: request))
            return
        }
        switch pipeline.prepare(request) {
        case .respond(let response, let record):
            outcomes.finished(record)
            responder.respond(response)
        case .forward(let call, let record):
            // `record` is captured as a constant and copied inside, so the closure carries it by
            // value instead of in a separate heap box.
            let sentAt = MonotonicNanos.now()
            let inFlight = upstream.send(call) { [pipeline, outcomes] result in
                var record = record
                record.audit.attempts = 1
                record.audit.upstreamMicros = Int((MonotonicNanos.now() &- sentAt) / 1000)
                let response = pipeline.finish(result, record: &record)
                outcomes.finished(record)
                if let response { responder.respond(response) }
            }
            responder.onCancel { inFlight.cancel() }
        }
    }
}
