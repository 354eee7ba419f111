#if canImport(Glibc)
import Glibc
#endif

/// Opens the listening sockets for one address: one per event loop, all bound to the same port
/// with `SO_REUSEPORT`, so the kernel spreads new connections across loops and no loop ever
/// hands a connection to another thread.
public enum Listener {
    /// Binds `count` sockets. With port 0 the first socket picks a free port and the others join it.
    /// Unless `joinExisting`, an address another socket already listens on is refused first
    /// (`AddressInUseError`): with `SO_REUSEPORT` the bind itself would succeed and share the port.
    public static func bind(_ address: SocketAddress, count: Int, joinExisting: Bool = false, backlog: Int32 = 4096) throws -> [Int32] {
        if !joinExisting && address.port != 0 { try refuseIfInUse(address) }
        var sockets: [Int32] = []
        var target = address
        do {
            for _ in 0..<max(1, count) {
                let fd = try open(target, backlog: backlog)
                sockets.append(fd)
                if target.port == 0 { target = try boundAddress(of: fd) }
            }
        } catch {
            sockets.forEach { _ = close($0) }
            throw error
        }
        return sockets
    }

    /// Binds a probe socket without `SO_REUSEPORT`: the kernel refuses it (EADDRINUSE) while any
    /// socket listens on the address, whichever process owns it. The probe never listens.
    private static func refuseIfInUse(_ address: SocketAddress) throws {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        defer { _ = close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        guard bound != 0 else { return }
        if errno == EADDRINUSE { throw AddressInUseError(address: address) }
        throw SocketError("bind \(address)")
    }

    /// The address a socket actually bound, which tells tests the port the kernel chose.
    public static func boundAddress(of fd: Int32) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError("getsockname") }
        return SocketAddress(storage: storage, length: length)
    }

    private static func open(_ address: SocketAddress, backlog: Int32) throws -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let error = SocketError("bind \(address)")
            _ = close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = SocketError("listen \(address)")
            _ = close(fd)
            throw error
        }
        return fd
    }
}

/// Start-up found another listener on the address (see `ServerConfiguration.joinExistingListeners`).
public struct AddressInUseError: Error, CustomStringConvertible {
    public var address: SocketAddress
    public var description: String {
        "another process already listens on \(address); stop it or choose another listen address "
            + "(justgate serve --replace joins it on purpose, for a hand-over)"
    }
}
