import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateUpstream
import Logging

/// The gateway's per-loop handler: runs the pipeline, makes the upstream call on this loop's
/// libcurl client (with retries, circuit breaker and in-flight limit), answers, and writes the
/// request's log line.
final class GatewayHandler: HTTPHandler {
    private let pipeline: RequestPipeline
    private let upstream: ResilientUpstream
    private let idempotency: IdempotencyGate
    private let requestLog: RequestLog

    init(pipeline: RequestPipeline, upstream: ResilientUpstream, idempotency: IdempotencyGate, requestLog: RequestLog) {
        self.pipeline = pipeline
        self.upstream = upstream
        self.idempotency = idempotency
        self.requestLog = requestLog
    }

    func handle(_ request: ServerRequest, responder: Responder) {
        carry(pipeline.prepare(request), responder: responder)
    }

    private func carry(_ decision: PipelineDecision, responder: Responder) {
        switch decision {
        case .respond(let response, let record):
            responder.respond(response)
            requestLog.write(record)
        case .forward(let call, var record):
            var idempotencyDone: ((Result<UpstreamResponse, UpstreamFailure>) -> Void)?
            if let key = record.idempotencyKey {
                switch idempotency.begin(key: key, call: call, record: &record) {
                case .forward(let done):
                    idempotencyDone = done
                case .respond(let response):
                    responder.respond(response)
                    requestLog.write(record)
                    return
                }
            }
            let idempotent = record.operationID.map { RetryPolicy.isIdempotent(operationID: $0) } ?? false
            // `record` is captured as a constant and copied inside, so the closure carries it by
            // value instead of in a separate heap box.
            let sent = record
            let exchange = upstream.send(call, deadlineMs: call.timeoutMs ?? 10_000, idempotent: idempotent) {
                [pipeline, requestLog] result, attempts in
                idempotencyDone?(result)
                var record = sent
                record.attempts = attempts
                if let response = pipeline.finish(result, record: &record) {
                    responder.respond(response)
                }
                requestLog.write(record)
            }
            responder.onCancel { exchange.cancel() }
        case .wait(let quota, let ticket):
            // The limiter's answer arrives on this loop; a client that left meanwhile is not
            // forwarded (its quota is spent: the limiter counted it before we knew).
            quota.resume = { [weak self] answer in
                guard let self else { return }
                guard responder.isActive else {
                    var record = ticket.record
                    record.outcome = "client_gone"
                    record.status = 499
                    self.requestLog.write(record)
                    return
                }
                self.carry(self.pipeline.conclude(answer, ticket), responder: responder)
            }
        }
    }
}
