#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem
import Synchronization

/// A listening HTTP/1.1 server: N event-loop threads, each with its own `SO_REUSEPORT` listener
/// and its own handler made by `handlerFactory` on that thread.
///
/// Not built on SwiftNIO or Swift concurrency on purpose: measured here, a plain epoll loop with
/// one write per response keeps up with nginx where general-purpose async servers do not.
public final class HTTPServer: Sendable {
    public typealias HandlerFactory = @Sendable (EventLoop) -> any HTTPHandler

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
    @discardableResult
    public func start() throws -> SocketAddress {
        let workers = configuration.workers > 0 ? configuration.workers : HTTPServer.coreCount()
        let listeners = try Listener.bind(configuration.address, count: workers)
        let bound = try Listener.boundAddress(of: listeners[0])
        var threads: [pthread_t] = []
        var wakeFDs: [Int32] = []
        for index in 0..<workers {
            let epollFD: Int32
            do {
                epollFD = try Epoll.create()
            } catch {
                listeners[index...].forEach { _ = close($0) }
                throw error
            }
            let wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
            let context = LoopContext(
                index: index, epollFD: epollFD, wakeFD: wakeFD, listener: listeners[index],
                configuration: configuration, shared: shared, factory: handlerFactory)
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
                throw SocketError("pthread_create", code: created)
            }
            threads.append(thread)
            wakeFDs.append(wakeFD)
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
        shared.requestStop()
        let (threads, wakeFDs) = state.withLock { state -> ([pthread_t], [Int32]) in
            defer { state.threads = []; state.wakeFDs = [] }
            return (state.threads, state.wakeFDs)
        }
        for fd in wakeFDs { _ = eventfd_write(fd, 1) }
        for thread in threads { pthread_join(thread, nil) }
        // Only now, with every loop gone, can no one write to these any more.
        for fd in wakeFDs { _ = close(fd) }
    }

    static func coreCount() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
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

    init(index: Int, epollFD: Int32, wakeFD: Int32, listener: Int32, configuration: ServerConfiguration,
         shared: ServerSharedState, factory: @escaping HTTPServer.HandlerFactory) {
        self.index = index
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        self.listener = listener
        self.configuration = configuration
        self.shared = shared
        self.factory = factory
    }

    func run() {
        let loop = EventLoop(index: index, epollFD: epollFD, wakeFD: wakeFD, listeners: [listener],
                             configuration: configuration, shared: shared)
        loop.handler = factory(loop)
        loop.run()
    }
}
