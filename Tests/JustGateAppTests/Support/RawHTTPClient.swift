#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A deliberately small blocking HTTP/1.1 client over a real loopback socket, so tests can send
/// exact bytes (malformed ones included) and read exactly what the server wrote back.
final class RawHTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object (problem documents, sandbox answers).
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    struct ClientError: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    /// - Parameter source: a loopback address to connect from (`127.0.0.2`: Linux routes all of 127/8 to lo), so
    ///   a test can be a peer other than 127.0.0.1; nil lets the system pick.
    init(port: Int, timeoutSeconds: Int = 5, source: String? = nil) throws {
        // Everything happens on a local descriptor first: once `fd` is set the object is fully
        // initialised, and a throw from then on would run `deinit`, which closes `fd` a second time
        // (closing whatever socket another test has opened under that number meanwhile).
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw ClientError(description: "socket failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let reason = errno
                close(socketFD)
                throw ClientError(description: "bind to \(source) failed: errno \(reason)")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = errno
            close(socketFD)
            throw ClientError(description: "connect to 127.0.0.1:\(port) failed: errno \(reason)")
        }
        fd = socketFD
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw ClientError(description: "send failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads one response (Content-Length or close-delimited bodies). `bodiless` reads the head only, as a
    /// client does for the answer to a HEAD: any bytes after it stay buffered and are read as the next response.
    func readResponse(bodiless: Bool = false) throws -> Response {
        while true {
            if let end = headEnd() {
                let headText = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let statusLine = lines.removeFirst().split(separator: " ")
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                    throw ClientError(description: "bad status line in \(headText)")
                }
                let headers = lines.compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                let bodyStart = end + 4
                if status == 100 {
                    buffer.removeFirst(bodyStart)
                    continue
                }
                if bodiless {
                    buffer.removeFirst(bodyStart)
                    return Response(status: status, headers: headers, body: [])
                }
                let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) }
                if let length {
                    while buffer.count < bodyStart + length { guard try fill() else { break } }
                    let body = Array(buffer[bodyStart..<min(buffer.count, bodyStart + length)])
                    buffer.removeFirst(min(buffer.count, bodyStart + length))
                    return Response(status: status, headers: headers, body: body)
                }
                while try fill() {}
                let body = Array(buffer[bodyStart...])
                buffer.removeAll()
                return Response(status: status, headers: headers, body: body)
            }
            guard try fill() else { throw ClientError(description: "connection closed before a full response head") }
        }
    }

    /// Sends a request and reads its answer.
    func exchange(_ raw: String) throws -> Response {
        try send(raw)
        return try readResponse()
    }

    /// True when the server has closed the connection (read returns 0) within the timeout.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// Everything still to come (buffered or sent) until the server closes the connection.
    func bytesUntilClose() throws -> [UInt8] {
        while try fill() {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Sends `text` and reads until `marker` has arrived (for non-HTTP peers such as Redis).
    func exchangeRaw(_ text: String, until marker: String) throws -> String {
        try send(text)
        let wanted = Array(marker.utf8)
        while !buffer.isEmpty ? !contains(wanted) : true {
            guard try fill() else { break }
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    private func contains(_ wanted: [UInt8]) -> Bool {
        guard buffer.count >= wanted.count else { return false }
        for start in 0...(buffer.count - wanted.count) where buffer[start..<(start + wanted.count)].elementsEqual(wanted) {
            return true
        }
        return false
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        if count == 0 { return false }
        if errno == ECONNRESET { return false }
        throw ClientError(description: "recv failed or timed out: errno \(errno)")
    }
}
