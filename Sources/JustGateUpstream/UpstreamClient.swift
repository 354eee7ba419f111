import CCurl
import JustGateReactor

/// The upstream HTTP client of one event loop: a libcurl multi handle whose sockets and timer
/// are driven by that loop's epoll set (`curl_multi_socket_action`), so many calls are in flight
/// at once, connections are reused, and no call ever leaves the loop's thread.
///
/// Confined to its loop, like everything the loop owns.
public final class UpstreamClient {
    private let loop: EventLoop
    private let configuration: UpstreamClientConfiguration
    private let multi: UnsafeMutableRawPointer
    /// The calls in flight, by easy handle. Being in here is a call's whole state: `send` puts it in, and
    /// whoever takes it out (`collectFinished` for libcurl's result, `cancel` for a client that left) is the
    /// one that runs its completion, so each completion runs exactly once.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// Numbers the calls, so a handle on a finished call cannot cancel a later call that reuses its easy handle.
    private var callSerial: UInt64 = 0
    private var spare: [CurlTransfer] = []
    private var timer: Int?
    /// Connections libcurl may open to a TLS upstream, and the last limit handed to libcurl.
    private var connectionBudget = HostConnectionBudget()
    private var hostConnectionLimit = 0
    /// Whether the latest call may share a connection (HTTP/2 over TLS by default; the upstream URL is the
    /// same for every call, but a reload may change it).
    private var callsMultiplex = false

    /// Fails if libcurl's global set-up failed, it cannot allocate a multi handle, or it refuses
    /// one of the options this client depends on (the socket and timer callbacks above all: without
    /// them no call would ever progress). The gateway then refuses to start.
    public init(loop: EventLoop, configuration: UpstreamClientConfiguration) throws(UpstreamFailure) {
        let initialised = UpstreamClient.globalInit
        guard initialised == CURLE_OK else {
            throw .failed("libcurl's global initialisation failed: \(UpstreamClient.text(initialised))")
        }
        guard let multi = curl_multi_init() else { throw .failed("libcurl could not create a multi handle") }
        self.loop = loop
        self.configuration = configuration
        self.multi = multi
        // From here a throw runs deinit, which cleans the multi handle up.
        let me = Unmanaged.passUnretained(self).toOpaque()
        let results = [
            jg_multi_setopt_socket_callback(multi, curlSocketChanged),
            jg_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me),
            jg_multi_setopt_timer_callback(multi, curlTimerChanged),
            jg_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me),
            jg_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxIdleConnections),
            jg_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX)),
            // libcurl's own cap is 100 streams per h2 connection; lifting it leaves the server's
            // SETTINGS_MAX_CONCURRENT_STREAMS in charge (nginx: 128), so fewer connections are needed.
            jg_multi_setopt_long(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000),
        ]
        if let refused = results.first(where: { $0 != CURLM_OK }) {
            throw .failed("libcurl refused a multi handle option: \(String(cString: curl_multi_strerror(refused)))")
        }
    }

    deinit {
        for transfer in active.values {
            curl_multi_remove_handle(multi, transfer.easy)
        }
        active.removeAll()
        spare.removeAll()
        if let timer { loop.cancelTimer(timer) }
        curl_multi_cleanup(multi)
    }

    /// libcurl's process-wide set-up, run once before any handle exists (swift_once makes it
    /// thread-safe); its result is checked by every client made.
    static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Starts a call; `completion` runs later on this loop, exactly once, unless the call is cancelled.
    @discardableResult
    public func send(_ request: UpstreamRequest,
                     completion: @escaping (Result<UpstreamResponse, UpstreamFailure>) -> Void) -> UpstreamCall {
        guard let transfer = spare.popLast() ?? CurlTransfer(configuration: configuration, loop: loop) else {
            completion(.failure(.failed("libcurl could not create an easy handle", cause: .internalError)))
            return UpstreamCall(client: nil, easy: nil)
        }
        let configured = transfer.configure(request)
        guard configured == CURLE_OK else {
            recycle(transfer)
            completion(.failure(.failed("could not configure the upstream call: \(UpstreamClient.text(configured))", cause: .internalError)))
            return UpstreamCall(client: nil, easy: nil)
        }
        transfer.completion = completion
        callSerial &+= 1
        transfer.call = callSerial
        active[transfer.easy] = transfer
        callsMultiplex = configuration.httpVersion.mayMultiplex(request)
        limitHostConnections()
        let added = curl_multi_add_handle(multi, transfer.easy)
        guard added == CURLM_OK else {
            active[transfer.easy] = nil
            recycle(transfer)
            completion(.failure(.failed("libcurl refused the call: \(String(cString: curl_multi_strerror(added)))", cause: .internalError)))
            return UpstreamCall(client: nil, easy: nil)
        }
        return UpstreamCall(client: self, easy: transfer.easy, serial: callSerial)
    }

    /// Abandons a call whose client went away; its completion reports `.cancelled`. A call that has ended
    /// already (answered, failed or cancelled) is left alone, and so is a later call on the same easy handle.
    func cancel(_ easy: UnsafeMutableRawPointer, serial: UInt64) {
        guard let transfer = active[easy], transfer.call == serial else { return }
        active[easy] = nil
        curl_multi_remove_handle(multi, easy)
        let completion = transfer.completion
        recycle(transfer)
        completion?(.failure(.cancelled))
    }

    /// Hands libcurl the connection budget for the calls now in flight, when it changed.
    private func limitHostConnections() {
        let limit = connectionBudget.limit(inFlight: active.count, multiplexing: callsMultiplex)
        guard limit != hostConnectionLimit else { return }
        hostConnectionLimit = limit
        jg_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit)
    }

    private func recycle(_ transfer: CurlTransfer) {
        transfer.reset()
        if spare.count < 256 { spare.append(transfer) }
    }

    // MARK: - Driving libcurl from the loop

    /// libcurl's interest in one socket changed. Unwatching only parks the socket in the loop, so a
    /// keep-alive connection going idle and being reused costs no epoll_ctl.
    fileprivate func socketChanged(_ fd: Int32, what: Int32) {
        if what == CURL_POLL_REMOVE {
            loop.unwatch(fd)
            return
        }
        var events: IOEvents = []
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { events.insert(.readable) }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { events.insert(.writable) }
        loop.watch(fd, events: events, socketReady)
    }

    /// One closure for every socket (the loop passes the descriptor), made once rather than per call.
    private lazy var socketReady: (Int32, IOEvents) -> Void = { [unowned self] fd, ready in
        var flags: Int32 = 0
        if ready.contains(.readable) { flags |= CURL_CSELECT_IN }
        if ready.contains(.writable) { flags |= CURL_CSELECT_OUT }
        if !ready.isDisjoint(with: [.error, .hangup]) { flags |= CURL_CSELECT_ERR }
        self.drive(fd, flags: flags)
    }

    fileprivate func timerChanged(_ timeoutMs: Int) {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        guard timeoutMs >= 0 else { return }
        timer = loop.scheduleTimer(afterMs: timeoutMs, timerFired)
    }

    private lazy var timerFired: () -> Void = { [unowned self] in
        self.timer = nil
        // CURL_SOCKET_TIMEOUT (-1): let libcurl run its timeouts and pending work.
        self.drive(-1, flags: 0)
    }

    private func drive(_ fd: Int32, flags: Int32) {
        var running: Int32 = 0
        curl_multi_socket_action(multi, fd, flags, &running)
        collectFinished()
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = jg_msg_result(message)
            guard let transfer = active.removeValue(forKey: easy) else { continue }
            curl_multi_remove_handle(multi, easy)
            if code == CURLE_OK, callsMultiplex {
                // Learn whether the upstream multiplexes; for an HTTP/1.1 one the limit goes at once
                // (calls may be waiting in libcurl for a connection).
                connectionBudget.observe(httpVersion: transfer.finishedHTTPVersion())
                limitHostConnections()
            }
            let result = outcome(of: transfer, code: code)
            let completion = transfer.completion
            recycle(transfer)
            completion?(result)
        }
    }

    private func outcome(of transfer: CurlTransfer, code: CURLcode) -> Result<UpstreamResponse, UpstreamFailure> {
        if code == CURLE_OK { return .success(transfer.finishedResponse()) }
        if transfer.exceededLimit { return .failure(.responseTooLarge(limit: configuration.maxResponseBytes)) }
        let text = UpstreamClient.text(code)
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            // Not one request byte written (still resolving, connecting or in the TLS handshake)
            // proves the upstream never saw it; anything else may have reached it.
            return .failure(transfer.requestBytesSent == 0 ? .connectTimedOut(text) : .timedOut(text))
        case CURLE_COULDNT_CONNECT:
            return .failure(.unreachable(text, cause: .connectRefused))
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(.unreachable(text, cause: .dnsFailed))
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return .failure(.unreachable(text, cause: .tlsFailed))
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            // Conservatively "may have been received", even for a send error: part of the
            // request may be in the upstream's buffers.
            return .failure(.connectionLost(text, cause: .connectionReset))
        case CURLE_GOT_NOTHING:
            return .failure(.connectionLost(text, cause: .emptyResponse))
        case CURLE_PARTIAL_FILE:
            return .failure(.failed(text, cause: .incompleteResponse))
        case CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING,
             CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(.failed(text, cause: .protocolError))
        default:
            return .failure(.failed(text))
        }
    }

    static func text(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }
}

/// A handle on a call in flight, to cancel it when the site's client disconnects.
public struct UpstreamCall {
    fileprivate weak var client: UpstreamClient?
    fileprivate let easy: UnsafeMutableRawPointer?
    /// Which call on `easy` this is: easy handles are recycled from call to call.
    fileprivate var serial: UInt64 = 0

    /// Ends the call now with `.cancelled`; nothing when it has ended already.
    public func cancel() {
        guard let client, let easy else { return }
        client.cancel(easy, serial: serial)
    }
}

private func curlSocketChanged(_ easy: UnsafeMutableRawPointer?, _ fd: curl_socket_t, _ what: Int32,
                               _ user: UnsafeMutableRawPointer?, _ socketData: UnsafeMutableRawPointer?) -> Int32 {
    guard let user else { return 0 }
    Unmanaged<UpstreamClient>.fromOpaque(user).takeUnretainedValue().socketChanged(fd, what: what)
    return 0
}

private func curlTimerChanged(_ multi: UnsafeMutableRawPointer?, _ timeoutMs: Int, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let user else { return 0 }
    Unmanaged<UpstreamClient>.fromOpaque(user).takeUnretainedValue().timerChanged(timeoutMs)
    return 0
}
