#if canImport(Glibc)
import Glibc
#endif
import JustGateHTTP
import JustGateReactor

/// One client connection: its bytes in, its responses out. The HTTP/1.1 state between them is a
/// `ConnectionStateMachine`; this class is the edge that tells it what happened (bytes, EOF, a head
/// parsed, an answer, the socket full or drained, a deadline, the drain) and performs what it answers
/// (parse, read the body, hand the request on, write, shut the write side, close).
///
/// Requests on a connection are handled strictly one at a time: while a request waits for its
/// answer, later pipelined bytes stay in the buffer, so answers go out in request order and each
/// exactly once. The connection is confined to its event loop's thread.
final class Connection {
    typealias Phase = ConnectionStateMachine.Phase

    let fd: Int32
    unowned let loop: ServerLoop
    private let peer: sockaddr_storage
    private var peerText: String?
    /// The order connections were accepted in on this loop, so eviction can pick the oldest.
    let serial: UInt64
    /// The peer's address when the loop counts connections per peer (`maxConnectionsPerPeer`).
    let peerKey: String?

    /// Every decision about what comes next (phase, keep-alive, deadlines, interest); this class only
    /// performs what it answers, so the protocol's states are tested without a socket.
    private var machine: ConnectionStateMachine
    var phase: Phase { machine.phase }
    /// Bumped for every request so a `Responder` can tell whether it still belongs to the live request.
    var generation: UInt64 { machine.generation }
    var cancelHandler: (() -> Void)?

    private var input: [UInt8] = []
    private var inputStart = 0
    private var parser: HTTPRequestHeadParser
    private var head: HTTPRequestHead?
    /// The client of the request whose head was parsed last (`ClientAddress`): the peer, unless the peer is a
    /// trusted proxy.
    private var client = ""
    private var body: [UInt8] = []
    /// What the handler's screen carried for the request whose body is being read (`HTTPHandler.handle`'s `screened`).
    private var screened: AnyObject?
    private var chunkedDecoder: ChunkedBodyDecoder?
    private var requestStartNanos: UInt64 = 0

    private var output: [UInt8] = []
    private var outputStart = 0
    /// `process` is running further up this thread's stack (a handler answered synchronously): the outer
    /// call carries on, so requests are still taken one at a time and in order.
    private var processing = false

    /// When the current phase times out (on the loop's clock); nil when nothing is timed.
    var deadline: MonotonicInstant? {
        machine.deadlineNanos(loop.configuration.connectionTimeouts).map(MonotonicInstant.init(nanoseconds:))
    }
    /// What epoll currently has for this socket, so unchanged interest costs no `epoll_ctl`.
    private var registered: IOEvents = .readable

    init(fd: Int32, peer: sockaddr_storage, loop: ServerLoop, serial: UInt64 = 0, peerKey: String? = nil) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.serial = serial
        self.peerKey = peerKey
        self.peerText = peerKey
        self.parser = HTTPRequestHeadParser(limits: loop.configuration.limits)
        self.machine = ConnectionStateMachine(timeouts: loop.configuration.connectionTimeouts,
                                              draining: loop.isDraining, now: loop.now.nanoseconds)
    }

    var isAwaitingResponse: Bool { machine.phase == .awaitingResponse }

    /// No request is in progress: nothing read since the last answer, or a head not yet complete, and no
    /// answer still being written. Such a connection may be closed to make room
    /// (`ServerConfiguration.evictIdleWhenFull`) without losing an answer.
    var isEvictable: Bool { machine.isEvictable(outputPending: outputStart < output.count) }

    var remoteAddress: String {
        if let peerText { return peerText }
        let text = SocketAddress(storage: peer, length: socklen_t(MemoryLayout<sockaddr_storage>.size)).host
        peerText = text
        return text
    }

    // MARK: - Reading

    /// Reads what the socket has and acts on it.
    func readable() {
        while !machine.isClosed {
            let count = read(fd, loop.scratch.baseAddress, loop.scratch.count)
            if count > 0 {
                if machine.discardsInput { continue }
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: loop.scratch[0..<count]))
                if count < loop.scratch.count || input.count - inputStart >= loop.maxBufferedInput { break }
            } else if count == 0 {
                switch machine.peerClosed(outputPending: outputStart < output.count) {
                case .finishWriting: updateInterest()
                case .close: close()
                }
                return
            } else {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()
                return
            }
        }
        process()
        updateInterest()
    }

    /// Parses and dispatches as many buffered requests as the current state allows.
    private func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while true {
            let step = machine.nextStep(inputBuffered: inputStart < input.count,
                                        outputBacklogged: output.count - outputStart > loop.maxPendingOutput,
                                        now: loop.now.nanoseconds)
            switch step {
            case .wait:
                return
            case .compactInput:
                compactInput()
                return
            case .parseHead(let startsRequest):
                if startsRequest { requestStartNanos = MonotonicInstant.now().nanoseconds }
                guard parseHead() else { return }
            case .readBody:
                guard readBody() else { return }
            }
        }
    }

    /// Returns true when a head was parsed and the state moved on.
    private func parseHead() -> Bool {
        let start = inputStart
        let parsedHead: (head: HTTPRequestHead, consumed: Int)?
        do {
            parsedHead = try input.withBytes { raw throws(HTTPParseError) in
                try parser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]))
            }
        } catch {
            fail(status: error.status, detail: error.reason)
            return false
        }
        guard let (parsed, consumed) = parsedHead else { return false }
        inputStart += consumed
        parser.reset()
        head = parsed
        client = ClientAddress.resolve(peer: remoteAddress, head: parsed, trusted: loop.configuration.trustedProxies)
        body = []
        screened = nil
        let hasBody: Bool
        switch parsed.framing {
        case .none: hasBody = false
        case .contentLength(let length): hasBody = length > 0
        case .chunked: hasBody = true
        }
        switch machine.headParsed(keepAlive: parsed.keepAlive, isHeadRequest: parsed.method == "HEAD", hasBody: hasBody) {
        case .ignore:
            return false
        case .dispatch:
            dispatch()
        case .screen:
            if answeredFromHead(parsed) { return true }
            switch parsed.framing {
            case .contentLength(let length): body.reserveCapacity(length)
            case .chunked: chunkedDecoder = ChunkedBodyDecoder(maxBodyBytes: loop.configuration.limits.maxBodyBytes)
            case .none: break
            }
            let sendContinue = machine.screenPassed(expectsContinue: parsed.expectsContinue && parsed.versionMinor >= 1,
                                                    bodyBytesBuffered: inputStart < input.count, now: loop.now.nanoseconds)
            if sendContinue {
                output.append(contentsOf: HTTPResponseWriter.continueResponse)
                flush()
            }
        }
        return true
    }

    /// Lets the handler answer a request from its head alone (`HTTPHandler.screen`). The body is
    /// then neither invited nor read: the answer goes out with `Connection: close` and the
    /// connection lingers, discarding what the client still sends, so the answer is not lost to a reset.
    private func answeredFromHead(_ parsed: HTTPRequestHead) -> Bool {
        let response: HTTPResponse
        switch loop.screen(parsed, remoteAddress: client, receivedAtNanos: requestStartNanos) {
        case .proceed(let carrying):
            screened = carrying
            return false
        case .answer(let answer):
            response = answer
        }
        head = nil
        machine.screenAnswered()
        complete(response)
        return true
    }

    /// Returns true when the body is complete and the request was dispatched.
    private func readBody() -> Bool {
        guard let head else { return false }
        switch head.framing {
        case .contentLength(let length):
            let available = input.count - inputStart
            guard available >= length else { return false }
            body.append(contentsOf: input[inputStart..<(inputStart + length)])
            inputStart += length
        case .chunked:
            guard var decoder = chunkedDecoder else { return false }
            let start = inputStart
            var decoded = body
            body = []
            let step: (consumed: Int, done: Bool)
            do {
                step = try input.withBytes { raw throws(HTTPParseError) in
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[start...]), into: &decoded)
                }
                body = decoded
            } catch {
                fail(status: error.status, detail: error.reason)
                return false
            }
            chunkedDecoder = decoder
            inputStart += step.consumed
            guard step.done else { return false }
            chunkedDecoder = nil
        case .none:
            break
        }
        machine.bodyRead()
        dispatch()
        return true
    }

    /// Hands the request just read (the machine now awaits its answer) to the handler.
    private func dispatch() {
        guard let head else { return }
        self.head = nil
        let request = ServerRequest(head: head, body: body, remoteAddress: client, receivedAtNanos: requestStartNanos)
        let carried = screened
        body = []
        screened = nil
        loop.handle(request, screened: carried, responder: Responder(connection: self, generation: machine.generation))
    }

    private func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 65536)
            inputStart = 0
        }
    }

    // MARK: - Writing

    /// Called through `Responder` with the answer to the request in flight.
    func complete(_ response: HTTPResponse) {
        guard case .write(let keepAlive, let omitBody) = machine.answerReady(now: loop.now.nanoseconds) else { return }
        cancelHandler = nil
        write(response, keepAlive: keepAlive, omitBody: omitBody)
        flush()
        guard !machine.isClosed else { return }
        if inputStart > 0 && inputStart == input.count { compactInput() }
        process()
        updateInterest()
    }

    /// Answers an error the server found itself and closes: after a framing error nothing that
    /// follows on this connection can be trusted.
    func fail(status: Int, detail: String) {
        guard case .writeAndClose(let omitBody) = machine.errorFound() else { return }
        cancelHandler = nil
        let response = loop.configuration.errorResponse(status, detail)
        write(response, keepAlive: false, omitBody: omitBody)
        // A request screened before its body failed here is recorded from what the server knows; the screen's
        // state for it is dropped.
        screened = nil
        loop.handler?.serverAnswered(ServerAnswer(
            response: response, method: head?.method, path: head.map { String($0.path) }, remoteAddress: head == nil ? remoteAddress : client,
            receivedAtNanos: requestStartNanos != 0 ? requestStartNanos : MonotonicInstant.now().nanoseconds))
        flush()
        updateInterest()
    }

    /// Queues one answer; the only place answers are serialised. `omitBody` comes from the machine
    /// (`answeringHead`), so a HEAD's answer is bodiless on every path: handler, screen, server-made error.
    private func write(_ response: HTTPResponse, keepAlive: Bool, omitBody: Bool) {
        HTTPResponseWriter.write(response, keepAlive: keepAlive, extraHeaders: loop.commonHeaders,
                                 omitBody: omitBody, into: &output)
    }

    /// Writes pending output; parks on `.writable` when the socket is full.
    func flush() {
        while outputStart < output.count {
            let written = output.withUnsafeBytes { raw in
                send(fd, raw.baseAddress.map { $0 + outputStart }, raw.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputStart += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                machine.writeBlocked(now: loop.now.nanoseconds)
                return
            } else {
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 65536)
        outputStart = 0
        switch machine.writeDrained(inputUnread: inputStart < input.count, now: loop.now.nanoseconds) {
        case .none:
            break
        case .close:
            close()
        case .shutdownWriteAndLinger:
            // Half-closes and drains briefly instead of closing outright: closing with unread input makes
            // the kernel send a reset, which can destroy the error response before the client reads it.
            shutdown(fd, Int32(SHUT_WR))
            input.removeAll()
            inputStart = 0
        }
    }

    func writable() {
        flush()
        if !machine.isClosed {
            process()
            updateInterest()
        }
    }

    // MARK: - Lifecycle

    func updateInterest() {
        guard !machine.isClosed else { return }
        let (readable, writable) = machine.interest(inputBacklogFull: input.count - inputStart >= loop.maxBufferedInput)
        var wanted: IOEvents = []
        if readable { wanted.insert(.readable) }
        if writable { wanted.insert(.writable) }
        guard wanted != registered else { return }
        registered = wanted
        if !loop.setInterest(self, wanted) { close() }
    }

    /// Called by the loop's sweep when `deadline` has passed.
    func deadlineExpired() {
        switch machine.timerFired() {
        case .headTimedOut:
            fail(status: 408, detail: "The request head was not complete within the header timeout; send the whole request promptly.")
        case .bodyTimedOut:
            fail(status: 408, detail: "The request body was not complete within the body timeout; send the whole body promptly.")
        case .close:
            close()
        case .none:
            break
        }
    }

    /// Used when the loop begins draining (`ConnectionStateMachine.drainBegan`): closes a connection that is
    /// between requests; one that has not sent its first request yet is kept for that one request, answered
    /// with `Connection: close`, and otherwise waits out its deadline or the drain's, whichever comes first.
    func closeIfIdle() {
        if machine.drainBegan() == .close { close() }
    }

    func close() {
        guard case .close(let cancelRequest) = machine.closeRequested() else { return }
        loop.remove(self)
        _ = Glibc.close(fd)
        if cancelRequest, let cancel = cancelHandler {
            cancelHandler = nil
            cancel()
        }
    }
}

extension ServerConfiguration {
    /// The timeouts a connection's deadlines are measured with (`ConnectionStateMachine.deadlineNanos`).
    var connectionTimeouts: ConnectionStateMachine.Timeouts {
        .init(firstByteMs: firstByteTimeoutMs, idleMs: idleTimeoutMs, headerMs: headerTimeoutMs, bodyMs: bodyTimeoutMs)
    }
}
