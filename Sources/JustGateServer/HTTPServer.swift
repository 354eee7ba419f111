#if canImport(Glibc)
import Glibc
#endif
import JustGateReactor
import Synchronization

/// A listening HTTP/1.1 server: N event-loop threads, each with its own `SO_REUSEPORT` listener
/// and its own handler made by `handlerFactory` on that thread.
///
/// Not built on SwiftNIO or Swift concurrency on purpose: a plain epoll loop with one write per
/// response and no thread hops; `make bench` compares it with nginx and HAProxy.
public final class HTTPServer: Sendable {
    /// Makes a loop's handler on the loop's thread; a throw fails `start()`.
    public typealias HandlerFactory = @Sendable (EventLoop) throws -> any HTTPHandler

    private let configuration: ServerConfiguration
    private let handlerFactory: HandlerFactory
    private let shared: ServerSharedState
    private let state = Mutex<RunState>(RunState())

    private struct RunState: Sendable {
        var threads: [pthread_t] = []
        var wakeFDs: [Int32] = []
        var boundAddress: SocketAddress?
    }

    public init(configuration: ServerConfiguration, handlerFactory: @escaping HandlerFactory) {
        self.configuration = configuration
        self.handlerFactory = handlerFactory
        self.shared = ServerSharedState(maxConnections: configuration.maxConnections)
    }

    /// Connections currently open across all loops.
    public var connectionCount: Int { shared.connectionCount }

    /// Binds, starts the loops and returns the bound address (with the real port when 0 was asked).
    ///
    /// Returns only once every loop has registered its listener and built its handler; if any
    /// step fails on any loop, the loops already running are stopped, every descriptor is closed
    /// and the first failure is thrown, so a server never runs with fewer workers than asked.
    @discardableResult
    public func start() throws -> SocketAddress {
        let workers = HTTPServer.loopCount(workers: configuration.workers)
        let listeners = try Listener.bind(configuration.address, count: workers,
                                          joinExisting: configuration.joinExistingListeners)
        let reports: StartReports
        do {
            reports = try StartReports()
        } catch {
            listeners.forEach { _ = close($0) }
            throw error
        }
        var threads: [pthread_t] = []
        var wakeFDs: [Int32] = []
        /// Stops what was started so far and closes what no loop owns yet.
        func abandon(from index: Int) {
            listeners[index...].forEach { _ = close($0) }
            stopLoops(threads: threads, wakeFDs: wakeFDs)
        }
        for index in 0..<workers {
            let epollFD: Int32
            do {
                epollFD = try EventLoop.openEpoll()
            } catch {
                abandon(from: index)
                throw error
            }
            let wakeFD: Int32
            do {
                wakeFD = try EventLoop.openWakeup()
            } catch {
                _ = close(epollFD)
                abandon(from: index)
                throw error
            }
            let context = LoopContext(
                index: index, epollFD: epollFD, wakeFD: wakeFD, listener: listeners[index],
                configuration: configuration, shared: shared, factory: handlerFactory, reports: reports)
            var thread = pthread_t()
            let unmanaged = Unmanaged.passRetained(context)
            let created = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let context = Unmanaged<LoopContext>.fromOpaque(raw).takeRetainedValue()
                context.run()
                return nil
            }, unmanaged.toOpaque())
            guard created == 0 else {
                unmanaged.release()
                _ = close(wakeFD)
                _ = close(epollFD)
                abandon(from: index)
                throw SocketError("pthread_create", code: created)
            }
            threads.append(thread)
            wakeFDs.append(wakeFD)
        }
        if let failure = reports.wait(count: workers) {
            stopLoops(threads: threads, wakeFDs: wakeFDs)
            throw failure
        }
        let bound: SocketAddress
        do {
            bound = try Listener.boundAddress(of: listeners[0])
        } catch {
            stopLoops(threads: threads, wakeFDs: wakeFDs)
            throw error
        }
        state.withLock {
            $0.threads = threads
            $0.wakeFDs = wakeFDs
            $0.boundAddress = bound
        }
        return bound
    }

    /// Stops accepting, lets requests in flight finish (up to `drainTimeoutMs`) and waits for every loop to exit.
    public func stop() {
        let (threads, wakeFDs) = state.withLock { state -> ([pthread_t], [Int32]) in
            defer { state.threads = []; state.wakeFDs = [] }
            return (state.threads, state.wakeFDs)
        }
        stopLoops(threads: threads, wakeFDs: wakeFDs)
    }

    private func stopLoops(threads: [pthread_t], wakeFDs: [Int32]) {
        shared.requestStop()
        for fd in wakeFDs { EventLoop.wake(fd) }
        for thread in threads { pthread_join(thread, nil) }
        // Only now, with every loop gone, can no one write to these any more.
        for fd in wakeFDs { _ = close(fd) }
    }

    static func coreCount() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// How many event loops a server configured with `workers` runs (0: one per online core), for whoever
    /// shares something per gateway among the loops.
    public static func loopCount(workers: Int) -> Int {
        workers > 0 ? workers : coreCount()
    }
}

/// Why a loop could not start, thrown by `HTTPServer.start`.
public struct LoopStartError: Error, CustomStringConvertible {
    public var loop: Int
    public var reason: String
    public var description: String { "event loop \(loop) could not start: \(reason)" }
}

/// Each loop's start-up outcome, reported from its thread: `start` blocks on a pipe until every
/// loop has written its byte, then reads the first failure (if any) under the lock.
private final class StartReports: Sendable {
    private let failure = Mutex<LoopStartError?>(nil)
    private let readFD: Int32
    private let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SocketError("pipe") }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        _ = close(readFD)
        _ = close(writeFD)
    }

    func report(_ error: LoopStartError?) {
        if let error { failure.withLock { if $0 == nil { $0 = error } } }
        var byte: UInt8 = 1
        while write(writeFD, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Waits for `count` reports; the first failure, or nil when every loop is running.
    func wait(count: Int) -> LoopStartError? {
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 64)
        while received < count {
            let got = read(readFD, &buffer, min(buffer.count, count - received))
            if got > 0 {
                received += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                return LoopStartError(loop: -1, reason: "lost the start-up reports of the event loops")
            }
        }
        return failure.withLock { $0 }
    }
}

/// What a loop thread needs to build its loop; handed across the thread boundary exactly once.
private final class LoopContext: Sendable {
    let index: Int
    let epollFD: Int32
    let wakeFD: Int32
    let listener: Int32
    let configuration: ServerConfiguration
    let shared: ServerSharedState
    let factory: HTTPServer.HandlerFactory
    let reports: StartReports

    init(index: Int, epollFD: Int32, wakeFD: Int32, listener: Int32, configuration: ServerConfiguration,
         shared: ServerSharedState, factory: @escaping HTTPServer.HandlerFactory, reports: StartReports) {
        self.index = index
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        self.listener = listener
        self.configuration = configuration
        self.shared = shared
        self.factory = factory
        self.reports = reports
    }

    func run() {
        ThreadName.setCurrent("\(configuration.threadNamePrefix)-\(index)")
        let loop = EventLoop(index: index, epollFD: epollFD, wakeFD: wakeFD, clock: configuration.clock)
        let server = ServerLoop(loop: loop, listeners: [listener], configuration: configuration, shared: shared)
        do {
            try server.register()
            server.handler = try factory(loop)
        } catch {
            reports.report(LoopStartError(loop: index, reason: "\(error)"))
            server.abandon()
            return
        }
        reports.report(nil)
        server.run()
    }
}
