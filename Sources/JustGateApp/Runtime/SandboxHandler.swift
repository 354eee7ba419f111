import JustGateHTTP
import JustGateReactor
import JustGateSandbox
import JustGateServer

/// Serves the emulated upstream over HTTP: decodes what justgate (or anyone) sends the way the
/// real API would receive it and hands it to `SandboxAPI`.
final class SandboxHandler: HTTPHandler {
    private let api: SandboxAPI
    /// While in it every call is answered 503 (`--unavailable-for`); nil: no outage.
    private let outage: Range<MonotonicInstant>?

    init(api: SandboxAPI, outage: Range<MonotonicInstant>? = nil) {
        self.api = api
        self.outage = outage
    }

    /// Nothing recorded: the sandbox stands in for the upstream, which keeps no request log of its own either.
    func serverAnswered(_ answer: ServerAnswer) {}

    func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
        let now = MonotonicInstant.now()
        if let outage, outage.contains(now) {
            let seconds = max(1, (now.milliseconds(until: outage.upperBound) + 999) / 1000)
            responder.respond(HTTPResponse(
                status: 503,
                headers: [HTTPHeader(name: "Content-Type", value: "text/plain"), HTTPHeader(name: "Retry-After", value: "\(seconds)")],
                body: Array("Error service".utf8)))
            return
        }
        let head = request.head
        let query = head.query.flatMap { try? URLEncodedForm.decode($0) } ?? []
        var form: [(name: String, value: String)] = []
        if !request.body.isEmpty, let type = head.value(for: "Content-Type").flatMap(MediaType.init(parsing:)) {
            if type.subtype == "x-www-form-urlencoded" {
                form = (try? request.body.withBytes { raw throws(FormDecodingError) in try URLEncodedForm.decode(raw) }) ?? []
            } else if type.subtype == "form-data", let boundary = type.parameters["boundary"] {
                form = (try? request.body.withBytes { raw throws(FormDecodingError) in
                    try MultipartFormData.decode(raw, boundary: boundary, limits: MultipartLimits())
                }) ?? []
            }
        }
        let path = URLEncodedForm.percentDecodePath(head.path) ?? String(head.path)
        let answer = api.handle(SandboxRequest(method: head.method, path: path, query: query, form: form,
                                               token: head.value(for: "X-AUTH-TOKEN")))
        responder.respond(HTTPResponse(
            status: answer.status,
            headers: [HTTPHeader(name: "Content-Type", value: answer.contentType)],
            body: Array(answer.body.utf8)))
    }
}
