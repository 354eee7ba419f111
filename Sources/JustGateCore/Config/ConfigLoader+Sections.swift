import JustGateHTTP
import Yams

/// The small sections of the file: listeners, upstream, server limits, validation, audit and log.
extension ConfigLoader {
    static let upstreamKeys = [
        "url", "connect_timeout_ms", "timeout_ms", "max_response_bytes", "ca_file", "retries", "circuit", "max_in_flight",
        "http_version",
    ]
    static let serverKeys = [
        "workers", "max_connections", "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms",
        "max_request_line_bytes", "max_header_line_bytes", "max_header_bytes", "max_header_count",
        "max_body_bytes", "max_multipart_parts", "max_multipart_part_bytes", "trusted_proxies",
    ]

    static func listenAddress(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> ListenAddress? {
        guard let text = reader.string(node, at: path) else { return nil }
        guard let address = ListenAddress(parsing: text) else {
            reader.error("""
                '\(text)' is not a listen address; write host:port with an IP address or localhost, \
                e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080 (port 0 picks a free port)
                """, at: path, node: node)
            return nil
        }
        return address
    }

    /// The admin endpoints can reload config and read the audit trail: keep them off the site listener and,
    /// unless the operator insists, off the network.
    static func checkAdminListen(
        _ admin: ListenAddress, against listen: ListenAddress, node: Node?, reader: inout ConfigNodeReader
    ) {
        if admin == listen && admin.port != 0 {
            reader.error("must differ from listen (\(listen)); the admin endpoints need their own port",
                         at: "admin_listen", node: node)
        }
    }

    static func upstreamConfig(_ node: Node, reader: inout ConfigNodeReader) -> UpstreamConfig? {
        guard let section = reader.mapping(node, at: "upstream", knownKeys: upstreamKeys) else { return nil }
        let target = reader.required(section, "url", hint: " (an https:// URL, or sandbox)").flatMap { urlNode in
            upstreamTarget(urlNode, reader: &reader)
        }
        let connect = reader.int(in: section, "connect_timeout_ms", default: 2000, atLeast: 1)
        let total = reader.int(in: section, "timeout_ms", default: 10_000, atLeast: 1)
        let maxResponse = reader.int(in: section, "max_response_bytes", default: 1_048_576, atLeast: 1)
        let caFile = reader.optionalString(in: section, "ca_file")
        if case .some("") = caFile {
            reader.error("must not be empty; remove ca_file to use the system CA bundle",
                         at: "upstream.ca_file", node: section.value("ca_file"))
        }
        if let connect, let total, total < connect {
            reader.error("""
                must be at least connect_timeout_ms (\(connect)), found \(total); timeout_ms bounds the whole \
                exchange including the connection
                """, at: "upstream.timeout_ms", node: section.value("timeout_ms") ?? node)
            return nil
        }
        let retries = retryConfig(section.value("retries"), reader: &reader)
        let circuit = circuitConfig(section.value("circuit"), reader: &reader)
        let maxInFlight = reader.int(in: section, "max_in_flight", default: 1024, atLeast: 1)
        let httpVersion = upstreamHTTPVersion(section, reader: &reader)
        guard let target, let connect, let total, let maxResponse, let caFile, let retries, let circuit,
              let maxInFlight, let httpVersion else { return nil }
        var upstream = UpstreamConfig(
            target: target, connectTimeoutMs: connect, timeoutMs: total, maxResponseBytes: maxResponse,
            caFile: caFile)
        upstream.retries = retries
        upstream.circuit = circuit
        upstream.maxInFlight = maxInFlight
        upstream.httpVersion = httpVersion
        return upstream
    }

    /// `upstream.http_version`: auto, 1.1 or 2 (written bare or quoted).
    private static func upstreamHTTPVersion(_ section: ConfigMapping, reader: inout ConfigNodeReader) -> UpstreamHTTPVersion? {
        guard let node = section.value("http_version") else { return .standard }
        guard let text = reader.string(node, at: "upstream.http_version") else { return nil }
        guard let version = UpstreamHTTPVersion(rawValue: text) else {
            reader.error("""
                '\(text)' is not an HTTP version choice; write auto (HTTP/2 over TLS when the upstream offers it), \
                1.1 (HTTP/1.1 keep-alive only) or 2 (HTTP/2, also over http:// without TLS)
                """, at: "upstream.http_version", node: node)
            return nil
        }
        return version
    }

    private static func upstreamTarget(_ node: Node, reader: inout ConfigNodeReader) -> UpstreamTarget? {
        guard let text = reader.string(node, at: "upstream.url") else { return nil }
        switch ConfigUpstreamURL.parse(text) {
        case .success(let checked):
            if let warning = checked.warning { reader.warning(warning, at: "upstream.url", node: node) }
            return checked.target
        case .failure(let problem):
            reader.error(problem.message, at: "upstream.url", node: node)
            return nil
        }
    }

    static func serverConfig(_ node: Node?, reader: inout ConfigNodeReader) -> ServerConfig? {
        var server = ServerConfig()
        guard let node else { return server }
        guard let section = reader.mapping(node, at: "server", knownKeys: serverKeys) else { return nil }
        let fields: [(String, WritableKeyPath<ServerConfig, Int>)] = [
            ("max_connections", \.maxConnections), ("header_timeout_ms", \.headerTimeoutMs),
            ("body_timeout_ms", \.bodyTimeoutMs), ("idle_timeout_ms", \.idleTimeoutMs),
            ("max_request_line_bytes", \.maxRequestLineBytes), ("max_header_line_bytes", \.maxHeaderLineBytes),
            ("max_header_bytes", \.maxHeaderBytes), ("max_header_count", \.maxHeaderCount),
            ("max_body_bytes", \.maxBodyBytes), ("max_multipart_parts", \.maxMultipartParts),
            ("max_multipart_part_bytes", \.maxMultipartPartBytes),
        ]
        var isValid = true
        if let workers = reader.int(in: section, "workers", default: server.workers, atLeast: 0) {
            server.workers = workers
        } else {
            isValid = false
        }
        for (key, field) in fields {
            if let value = reader.int(in: section, key, default: server[keyPath: field], atLeast: 1) {
                server[keyPath: field] = value
            } else {
                isValid = false
            }
        }
        if let node = section.value("trusted_proxies") {
            if let networks = trustedProxies(node, reader: &reader) { server.trustedProxies = networks } else { isValid = false }
        }
        if isValid, server.maxHeaderLineBytes > server.maxHeaderBytes {
            reader.error("""
                max_header_line_bytes (\(server.maxHeaderLineBytes)) exceeds max_header_bytes \
                (\(server.maxHeaderBytes)); a single header line cannot be larger than the whole header block
                """, at: "server", node: section.value("max_header_line_bytes") ?? node)
            isValid = false
        }
        return isValid ? server : nil
    }

    static func validationConfig(_ node: Node?, reader: inout ConfigNodeReader) -> ValidationConfig? {
        guard let node else { return ValidationConfig() }
        guard let section = reader.mapping(node, at: "validation", knownKeys: ["unknown_fields", "max_fields"]) else { return nil }
        var policy: UnknownFieldPolicy? = .reject
        if let policyNode = section.value("unknown_fields") {
            policy = reader.choice(policyNode, at: "validation.unknown_fields", as: UnknownFieldPolicy.self)
        }
        let maxFields = reader.int(in: section, "max_fields", default: ValidationConfig.defaultMaxFields, atLeast: 1)
        guard let policy, let maxFields else { return nil }
        return ValidationConfig(unknownFields: policy, maxFields: maxFields)
    }

    static func logConfig(_ node: Node?, reader: inout ConfigNodeReader) -> LogConfig? {
        guard let node else { return LogConfig() }
        guard let section = reader.mapping(node, at: "log", knownKeys: ["level", "format", "requests", "sample_success"])
        else { return nil }
        let defaults = LogConfig()
        let level = section.value("level").map { reader.choice($0, at: "log.level", as: LogLevel.self) } ?? defaults.level
        let format = section.value("format").map { reader.choice($0, at: "log.format", as: LogFormat.self) } ?? defaults.format
        let requests = section.value("requests").map { reader.choice($0, at: "log.requests", as: RequestLogPolicy.self) }
            ?? defaults.requests
        let sample = section.value("sample_success").map { share($0, at: "log.sample_success", reader: &reader) }
            ?? defaults.sampleSuccess
        guard let level, let format, let requests, let sample else { return nil }
        return LogConfig(level: level, format: format, requests: requests, sampleSuccess: sample)
    }

    /// A share from 0 to 1, such as 0.01.
    private static func share(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> Double? {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite, (0...1).contains(value) else {
            reader.error("expected a share from 0 to 1, such as 0.01 (one successful request line in a hundred)",
                         at: path, node: node)
            return nil
        }
        return value
    }
}
