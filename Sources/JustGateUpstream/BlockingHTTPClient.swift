import CCurl

/// One HTTP call made by `BlockingHTTPClient`.
public struct BlockingHTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header lines as name and value; no control characters (they come from config and Vault's answers).
    public var headers: [(name: String, value: String)]
    /// Sent as the body of a POST; nil for GET.
    public var body: String?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Why a call got no HTTP answer: libcurl's own words (connection refused, certificate problem, timeout).
public struct BlockingHTTPError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// A synchronous libcurl client: `perform` blocks the calling thread until the answer is in.
///
/// For calls that are rare and belong to no request, such as reading secrets from Vault every minute: a blocking
/// `curl_easy_perform` on a thread of its own is the simplest correct client and never takes an event loop's time
/// (the request path uses `UpstreamClient` on the loops instead). One easy handle is kept, so its connection to
/// the server is reused from call to call. Not thread-safe: one owner calls it from one thread at a time.
public final class BlockingHTTPClient {
    private let easy: UnsafeMutableRawPointer
    /// The answer being received; libcurl's write callback appends here.
    fileprivate var received: [UInt8] = []
    fileprivate let maxResponseBytes: Int

    /// - Parameters:
    ///   - caFile: PEM bundle to verify the server's certificate with; nil: the system's store. Verification of
    ///     the certificate and the host name is never turned off.
    public init(caFile: String?, connectTimeoutMs: Int = 3000, timeoutMs: Int = 10_000,
                maxResponseBytes: Int = 1 << 20) throws(BlockingHTTPError) {
        guard UpstreamClient.globalInit == CURLE_OK, let easy = curl_easy_init() else {
            throw BlockingHTTPError(description: "libcurl could not be initialised")
        }
        self.easy = easy
        self.maxResponseBytes = maxResponseBytes
        var code = jg_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        func also(_ next: CURLcode) { if code == CURLE_OK { code = next } }
        also(jg_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        also(jg_easy_setopt_string(easy, CURLOPT_PROXY, ""))
        also(jg_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        also(jg_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        also(jg_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        also(jg_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMs))
        also(jg_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeoutMs))
        if let caFile { also(jg_easy_setopt_string(easy, CURLOPT_CAINFO, caFile)) }
        also(jg_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, blockingWriteBody))
        also(jg_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque()))
        guard code == CURLE_OK else {
            throw BlockingHTTPError(description: "libcurl refused an option: \(String(cString: curl_easy_strerror(code)))")
        }
    }

    deinit {
        curl_easy_cleanup(easy)
    }

    /// Makes the call and waits for its answer: the status and the body as text (lossy UTF-8).
    public func perform(_ request: BlockingHTTPRequest) throws(BlockingHTTPError) -> (status: Int, body: String) {
        received.removeAll(keepingCapacity: true)
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for header in request.headers { list = curl_slist_append(list, "\(header.name): \(header.value)") }
        defer {
            jg_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, nil)
            curl_slist_free_all(list)
        }
        var code = jg_easy_setopt_string(easy, CURLOPT_URL, request.url)
        func also(_ next: CURLcode) { if code == CURLE_OK { code = next } }
        also(jg_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))
        if let body = request.body {
            also(jg_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, body.utf8.count))
            also(jg_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, body))
        } else {
            also(jg_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        }
        if code == CURLE_OK { code = curl_easy_perform(easy) }
        guard code == CURLE_OK else {
            let reason = received.count > maxResponseBytes || code == CURLE_WRITE_ERROR
                ? "the answer is larger than \(maxResponseBytes) bytes" : String(cString: curl_easy_strerror(code))
            throw BlockingHTTPError(description: reason)
        }
        var status = 0
        jg_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let body = String(decoding: received, as: UTF8.self)
        // The answer may hold a token: do not keep it in the buffer past this call.
        for index in received.indices { received[index] = 0 }
        received.removeAll(keepingCapacity: true)
        return (status, body)
    }
}

/// libcurl's body sink for `BlockingHTTPClient`: appends, and stops the call past the size limit.
private func blockingWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                               _ user: UnsafeMutableRawPointer?) -> Int {
    guard let user, let data else { return 0 }
    let client = Unmanaged<BlockingHTTPClient>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    guard client.received.count + length <= client.maxResponseBytes else { return 0 }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        client.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}
