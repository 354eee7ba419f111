import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import Logging

/// The gateway's per-loop handler: runs the pipeline, makes the upstream call on this loop's
/// libcurl client (with retries, circuit breaker and in-flight limit), answers, and hands the
/// request's record to the outcome hook (log line, audit record) and the loop's metrics.
final class GatewayHandler: HTTPHandler {
    private let pipeline: RequestPipeline
    private let upstream: ResilientUpstream
    private let idempotency: IdempotencyGate
    private let outcomes: RequestOutcomes
    private let metrics: LoopMetrics

    init(pipeline: RequestPipeline, upstream: ResilientUpstream, idempotency: IdempotencyGate, outcomes: RequestOutcomes,
         metrics: LoopMetrics) {
        self.pipeline = pipeline
        self.upstream = upstream
        self.idempotency = idempotency
        self.outcomes = outcomes
        self.metrics = metrics
    }

    /// Where a request this handler answered ends: its log line, its audit record and its metrics. Every
    /// answer the handler gives passes here (a screen or pipeline refusal, a limit, an idempotent replay, an
    /// upstream answer or failure, a client that left), called before the answer is sent, so each has its
    /// record queued. Two kinds of answer do not: the server's own (400/408/413/414/431, the 503 at
    /// `server.max_connections`) are recorded by `ServerAnswerRecorder`, and the 503 for a request that cannot
    /// be audited (`RequestOutcomes.refusal`) gets only a log line, no audit record and no metric.
    private func finished(_ record: RequestRecord) {
        outcomes.finished(record)
        metrics.observe(record, durationNanos: Int64(MonotonicNanos.now() &- record.receivedAtNanos))
    }

    /// Authenticates and routes from the head alone, so a request without a valid key or for no
    /// operation is answered before its body is invited or read.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HTTPResponse? {
        guard case .respond(let response, let record)? = pipeline.screen(head, remoteAddress: remoteAddress,
                                                                        receivedAtNanos: receivedAtNanos)
        else { return nil }
        finished(record)
        return response
    }

    func handle(_ request: ServerRequest, responder: Responder) {
        guard outcomes.admits() else {
            responder.respond(outcomes.refusal(for: request))
            return
        }
        carry(pipeline.prepare(request), responder: responder)
    }

    private func carry(_ decision: PipelineDecision, responder: Responder) {
        switch decision {
        case .respond(let response, let record):
            finished(record)
            responder.respond(response)
        case .forward(let call, let record, let echoGuard):
            guard let key = record.idempotencyKey else {
                return send(call, record: record, echoGuard: echoGuard, responder: responder, remember: nil)
            }
            // The key's store answers now (memory) or later on this loop (Redis); a client gone by
            // then is not forwarded, and its claim is given back.
            idempotency.begin(key: key, call: call, record: record) { [weak self] step in
                guard let self else { return }
                switch step {
                case .respond(let response, let record):
                    self.finished(record)
                    responder.respond(response)
                case .forward(var record, let remember):
                    guard responder.isActive else {
                        remember(nil)
                        record.outcome = .clientGone
                        record.failureReason = .clientGone
                        record.status = 499
                        return self.finished(record)
                    }
                    self.send(call, record: record, echoGuard: echoGuard, responder: responder, remember: remember)
                }
            }
        case .wait(let quota, let ticket):
            // The limiter's answer arrives on this loop; a client that left meanwhile is not
            // forwarded (its quota is spent: the limiter counted it before we knew).
            quota.resume = { [weak self] answer in
                guard let self else { return }
                guard responder.isActive else {
                    var record = ticket.record
                    record.outcome = .clientGone
                    record.failureReason = .clientGone
                    record.status = 499
                    self.finished(record)
                    return
                }
                self.carry(self.pipeline.conclude(answer, ticket), responder: responder)
            }
        }
    }

    /// Makes the upstream call and answers with its result; `remember` (the idempotency step's) gets the
    /// screened answer first.
    private func send(_ call: UpstreamRequest, record: RequestRecord, echoGuard: [UInt8], responder: Responder,
                      remember: ((Result<RelayedAnswer, UpstreamFailure>?) -> Void)?) {
        let idempotent = record.operationID.map { RetryPolicy.isIdempotent(operationID: $0) } ?? false
        // `record` is captured as a constant and copied inside, so the closure carries it by
        // value instead of in a separate heap box.
        let sent = record
        let started = MonotonicNanos.now()
        let exchange = upstream.send(call, deadlineMs: call.timeoutMs ?? 10_000, idempotent: idempotent) {
            [weak self, pipeline] result, attempts in
            // The one place every upstream answer passes: screened before it is stored or relayed.
            let answer = RelayedAnswer.screen(result, token: echoGuard)
            remember?(answer)
            var record = sent
            record.attempts = attempts
            record.upstreamNanos = MonotonicNanos.now() &- started
            let response = pipeline.finish(answer, record: &record)
            self?.finished(record)
            if let response { responder.respond(response) }
        }
        responder.onCancel { exchange.cancel() }
    }
}
