#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A TCP listener on 127.0.0.1 with a port the kernel picked, for the test upstreams and for finding a
/// free port: one place for the bind / listen / getsockname dance.
enum LoopbackListener {
    /// The listening descriptor and its port; the caller owns (and closes) the descriptor.
    static func open(backlog: Int32 = 64, reuseAddress: Bool = false) throws -> (fd: Int32, port: Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        if reuseAddress {
            var reuse: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, backlog) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Stops a listener that `serveEach` is serving: `shutdown` wakes the accept loop blocked in `accept`,
    /// which then ends; `close` gives the port back.
    static func stop(_ listener: Int32) {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Accepts connections on `listener` on a thread of its own and serves each on another, for as long as
    /// `owner` lives and the listener is open (closing it ends the loop).
    static func serveEach<Owner: AnyObject & Sendable>(_ listener: Int32, owner: Owner,
                                                       _ serve: @escaping @Sendable (Owner, Int32) -> Void) {
        Thread.detachNewThread { [weak owner] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection >= 0 { _ = fcntl(connection, F_SETFD, FD_CLOEXEC) }   // no child inherits it (see ChildProcess)
                guard connection >= 0, let owner else { return }
                Thread.detachNewThread { serve(owner, connection) }
            }
        }
    }
}
