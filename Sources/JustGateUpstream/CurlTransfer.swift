#if canImport(Glibc)
import Glibc
#endif
import CCurl
import JustGateReactor

/// One easy handle and everything libcurl borrows from us while it runs: the header list and the
/// response buffer must outlive the transfer, so they live here, owned by the client's table.
final class CurlTransfer {
    let easy: UnsafeMutableRawPointer
    /// The request's header list, built in memory this transfer owns (see `HeaderList`).
    private var headers = HeaderList()
    /// The upstream URL, kept parsed across calls (see `CurlURL`).
    private var url = CurlURL()
    /// The body libcurl sends: CURLOPT_POSTFIELDS points here, so it is memory this transfer owns
    /// (not an array's storage, which may move) and reuses from call to call.
    private var body = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private let connectTimeoutMs: Int
    private let timeoutMs: Int
    private let httpVersion: UpstreamHTTPVersionChoice
    var response: [UInt8] = []
    var maxResponseBytes = 0
    var exceededLimit = false
    var completion: ((Result<UpstreamResponse, UpstreamFailure>) -> Void)?
    /// The client's number for the call this handle runs now (`UpstreamCall` checks it before cancelling).
    var call: UInt64 = 0
    /// Whether CURLOPT_PIPEWAIT is on: for calls that may multiplex only (see `configure`).
    private var waitsForMultiplexing = false

    /// Creates a handle with the options every call shares; `configure` then sets only what differs
    /// per call, so a recycled handle is not reset and rebuilt for each request.
    /// - Parameter loop: told about every socket libcurl closes, before it is closed (see `curlCloseSocket`).
    init?(configuration: UpstreamClientConfiguration, loop: EventLoop) {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
        maxResponseBytes = configuration.maxResponseBytes
        connectTimeoutMs = configuration.connectTimeoutMs
        timeoutMs = configuration.timeoutMs
        httpVersion = configuration.httpVersion
        var code = jg_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        func also(_ next: CURLcode) { if code == CURLE_OK { code = next } }
        also(jg_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        // An empty proxy means none: upstream calls never go through a proxy from the environment,
        // and libcurl skips its per-call proxy variable lookups.
        also(jg_easy_setopt_string(easy, CURLOPT_PROXY, ""))
        // `upstream.http_version`: HTTP/1.1 by default (less CPU per call); with auto, HTTP/2 when the upstream
        // offers it over TLS (ALPN), and then many calls share one upstream connection.
        also(jg_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, configuration.httpVersion.curlOption))
        if let caFile = configuration.caFile { also(jg_easy_setopt_string(easy, CURLOPT_CAINFO, caFile)) }
        also(jg_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteBody))
        also(jg_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque()))
        also(jg_easy_setopt_closesocket_callback(easy, curlCloseSocket))
        // Unretained: the client that owns this handle holds the loop, and closes every connection
        // (curl_multi_cleanup) before it lets the loop go.
        also(jg_easy_setopt_pointer(easy, CURLOPT_CLOSESOCKETDATA, Unmanaged.passUnretained(loop).toOpaque()))
        // Every stored property is set by now, so failing runs `deinit`, which cleans the handle up
        // (cleaning it here as well would free it twice).
        guard code == CURLE_OK else { return nil }
    }

    /// Makes a finished handle ready for the next call; its shared options stay set.
    func reset() {
        jg_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, nil)
        if body.count > 64 * 1024 {
            body.deallocate()
            body = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        }
        response.removeAll(keepingCapacity: response.capacity <= 64 * 1024)
        exceededLimit = false
        completion = nil
    }

    deinit {
        curl_easy_cleanup(easy)
        headers.deallocate()
        url.deallocate()
        body.deallocate()
    }

    /// Sets the options of one call. The URL handle and header list stay this transfer's (libcurl
    /// reads them while the call runs); the body stays in `body`, so it is not copied again.
    /// Every per-call option is set on every call, so nothing leaks from the previous one.
    func configure(_ request: UpstreamRequest) -> CURLcode {
        let pointed = url.point(base: request.baseURL, target: request.target)
        guard pointed == CURLUE_OK, let handle = url.handle else {
            return pointed == CURLUE_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_URL_MALFORMAT
        }
        var code = jg_easy_setopt_pointer(easy, CURLOPT_CURLU, UnsafeMutableRawPointer(handle))
        func also(_ next: CURLcode) { if code == CURLE_OK { code = next } }
        switch request.method {
        case "GET":
            also(jg_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
            also(jg_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, nil))
        default:
            // One spare byte: an empty body still needs a valid pointer (libcurl is told the size).
            if body.count < request.body.count + 1 {
                body.deallocate()
                body = UnsafeMutableRawBufferPointer.allocate(byteCount: max(request.body.count + 1, 1024), alignment: 1)
            }
            request.body.withUnsafeBytes { body.copyMemory(from: $0) }
            also(jg_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, request.body.count))
            also(jg_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, body.baseAddress))
            also(jg_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method == "POST" ? nil : request.method))
        }
        also(jg_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headers.fill(request.headers, hasBody: request.method != "GET")))
        // The attempt's share of the request's deadline; libcurl treats 0 as "no limit", so at least 1.
        let limit = max(request.timeoutMs ?? timeoutMs, 1)
        also(jg_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, limit))
        also(jg_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(connectTimeoutMs, limit)))
        // Where calls may share a connection (h2), a call started while the first connection to the
        // upstream is still connecting waits to learn whether it can share it instead of opening a
        // connection of its own; see `HostConnectionBudget`. HTTP/1.1 calls (plain http:// by default,
        // any with http_version 1.1) never multiplex, so they do not wait.
        let multiplexes = httpVersion.mayMultiplex(request)
        if multiplexes != waitsForMultiplexing {
            also(jg_easy_setopt_long(easy, CURLOPT_PIPEWAIT, multiplexes ? 1 : 0))
            waitsForMultiplexing = multiplexes
        }
        return code
    }

    /// Request bytes handed to the connection so far (CURLINFO_REQUEST_SIZE, counted by libcurl as
    /// each write succeeds): 0 proves the upstream cannot have seen this request.
    var requestBytesSent: Int {
        var size = 0
        jg_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &size)
        return size
    }

    /// The upstream's status and content type once the transfer is done.
    func finishedResponse() -> UpstreamResponse {
        var status = 0
        jg_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var contentType: UnsafeMutablePointer<CChar>?
        jg_easy_getinfo_string(easy, CURLINFO_CONTENT_TYPE, &contentType)
        return UpstreamResponse(status: status, contentType: contentType.map { String(cString: $0) }, body: response)
    }

    /// The HTTP version the finished call used (`CURL_HTTP_VERSION_1_1`, `CURL_HTTP_VERSION_2_0`, ...).
    func finishedHTTPVersion() -> Int {
        var version = 0
        jg_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        return version
    }
}

/// libcurl's body sink: appends to the transfer's buffer, and aborts the transfer (by returning a
/// short count) once the answer is larger than the configured limit.
private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let user, let data else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    if transfer.response.count + length > transfer.maxResponseBytes {
        transfer.exceededLimit = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.response.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

/// libcurl closes a connection's socket through this, so the loop can drop the socket's epoll
/// registration first: the loop keeps upstream sockets registered between calls, and a closed
/// descriptor's number may come back at once as a new socket.
private func curlCloseSocket(_ user: UnsafeMutableRawPointer?, _ fd: curl_socket_t) -> Int32 {
    if let user { Unmanaged<EventLoop>.fromOpaque(user).takeUnretainedValue().forget(fd) }
    return close(fd)
}
