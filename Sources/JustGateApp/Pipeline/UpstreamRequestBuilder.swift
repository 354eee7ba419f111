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
        // The target travels apart from the base URL (see `UpstreamRequest`): for most operations it is the
        // catalogue's path itself, no string built.
        var target = operation.path
        if let parameter = validated.pathParameter {
            target = target.replacingOccurrences(of: "{\(operation.pathParameter?.name ?? "channel")}", with: parameter)
        }
        let fields = validated.fields
        let encoded = URLEncodedForm.encodedBytes(count: fields.count) { (name: fields[$0].name, value: fields[$0].value) }
        // Room for every header up front: appending past a literal's capacity would copy the array.
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(7)
        headers.append(("X-AUTH-TOKEN", site.upstreamToken.reveal()))
        headers.append(("Accept", accept.flatMap(acceptableAccept) ?? "*/*"))
        headers.append(("User-Agent", JustGateVersion.userAgent))
        headers.append(("X-Request-Id", requestID))
        headers.append(("traceparent", trace.traceParentText))
        if let state = trace.traceStateHeaderValue { headers.append(("tracestate", state)) }
        var body: [UInt8] = []
        if operation.forwardsAsQuery {
            if !encoded.isEmpty { target = joined(target, query: encoded) }
        } else {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = encoded
        }
        return UpstreamRequest(method: operation.method, baseURL: baseURL, target: target, headers: headers, body: body)
    }

    /// "path?query", written once into a string of the right size.
    private static func joined(_ path: String, query: [UInt8]) -> String {
        var path = path
        return path.withUTF8 { pathBytes in
            String(unsafeUninitializedCapacity: pathBytes.count + 1 + query.count) { out in
                var position = 0
                for byte in pathBytes { out[position] = byte; position += 1 }
                out[position] = UInt8(ascii: "?")
                position += 1
                for byte in query { out[position] = byte; position += 1 }
                return position
            }
        }
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
