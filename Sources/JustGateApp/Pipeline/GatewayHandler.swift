import JustGateHTTP
import JustGateServer
import JustGateUpstream
import Logging

/// The gateway's per-loop handler: runs the pipeline, makes the upstream call on this loop's
/// libcurl client, answers, and writes the request's log line.
final class GatewayHandler: HTTPHandler {
    private let pipeline: RequestPipeline
    private let upstream: UpstreamClient
    private let requestLog: RequestLog

    init(pipeline: RequestPipeline, upstream: UpstreamClient, requestLog: RequestLog) {
        self.pipeline = pipeline
        self.upstream = upstream
        self.requestLog = requestLog
    }

    /// Authenticates and routes from the head alone, so a request without a valid key or for no
    /// operation is answered before its body is invited or read.
    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HTTPResponse? {
        guard case .respond(let response, let record)? = pipeline.screen(head, remoteAddress: remoteAddress,
                                                                        receivedAtNanos: receivedAtNanos)
        else { return nil }
        requestLog.write(record)
        return response
    }

    func handle(_ request: ServerRequest, responder: Responder) {
        switch pipeline.prepare(request) {
        case .respond(let response, let record):
            responder.respond(response)
            requestLog.write(record)
        case .forward(let call, let record):
            // `record` is captured as a constant and copied inside, so the closure carries it by
            // value instead of in a separate heap box.
            let inFlight = upstream.send(call) { [pipeline, requestLog] result in
                var record = record
                if let response = pipeline.finish(result, record: &record) {
                    responder.respond(response)
                }
                requestLog.write(record)
            }
            responder.onCancel { inFlight.cancel() }
        }
    }
}
