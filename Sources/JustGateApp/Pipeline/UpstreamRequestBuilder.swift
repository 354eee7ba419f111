import JustGateCore
import JustGateHTTP
import JustGateUpstream
import W3CTraceContext

/// Builds the one canonical upstream call for a validated request: the catalogue's method and
/// path, only the catalogue's fields (urlencoded body for POST/PUT, query string for GET), and an
/// allowlist of headers with the site's real token injected. Nothing else the site sent passes.
enum UpstreamRequestBuilder {
    static func build(operation: OperationSpec, validated: ValidatedRequest, site: SiteContext, requestID: String,
                      accept: String?, baseURL: String, trace: TraceContext) -> UpstreamRequest {
        var path = operation.path
        if let parameter = validated.pathParameter {
            path = path.replacingOccurrences(of: "{\(operation.pathParameter?.name ?? "channel")}", with: parameter)
        }
        let encoded = URLEncodedForm.encodedBytes(validated.fields.map { (name: $0.name, value: $0.value) })
        let token = ("X-AUTH-TOKEN", site.upstreamToken.reveal())
        let acceptHeader = ("Accept", accept.flatMap(acceptableAccept) ?? "*/*")
        let agent = ("User-Agent", JustGateVersion.userAgent)
        let id = ("X-Request-Id", requestID)
        var url = baseURL + path
        var headers: [(name: String, value: String)] = [token, acceptHeader, agent, id, ("traceparent", trace.traceParentHeaderValue)]
        if let state = trace.traceStateHeaderValue { headers.append(("tracestate", state)) }
        var body: [UInt8] = []
        if operation.forwardsAsQuery {
            if !encoded.isEmpty { url += "?" + String(decoding: encoded, as: UTF8.self) }
        } else {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = encoded
        }
        return UpstreamRequest(method: operation.method, url: url, headers: headers, body: body)
    }

    /// Passes the site's Accept only if it is short printable ASCII; header injection stops here.
    private static func acceptableAccept(_ value: String) -> String? {
        guard value.utf8.count <= 256, value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }
}

extension String {
    /// Literal substring replacement without Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
