#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateRedis
import Synchronization

/// A fake Redis on loopback that answers the limiter's commands with scripted RESP: the set-up commands
/// (AUTH, SELECT, SCRIPT LOAD) as a real Redis would, and every EVALSHA/EVAL with `reply(keyCount)`. For
/// testing what the gateway does with replies no honest Redis sends (a hostile or impersonated Redis on a
/// plaintext link).
final class ScriptedRedis: Sendable {
    let port: Int
    private let listener: Int32
    private let reply: @Sendable (Int) -> String
    private let evalCount = Mutex(0)

    /// - Parameter reply: the raw RESP answer to a limiter call with that many keys.
    init(reply: @escaping @Sendable (Int) -> String) throws {
        (listener, port) = try LoopbackListener.open()
        self.reply = reply
        LoopbackListener.serveEach(listener, owner: self) { owner, connection in owner.serve(connection) }
    }

    deinit { LoopbackListener.stop(listener) }

    var url: String { "redis://127.0.0.1:\(port)/0" }
    /// Limiter calls answered so far.
    var evals: Int { evalCount.withLock { $0 } }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let parser = RESPParser()
        while true {
            let count = chunk.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            input.append(contentsOf: chunk[0..<count])
            while let (command, consumed) = (try? input.withUnsafeBytes { try parser.parse($0) }) ?? nil {
                input.removeFirst(consumed)
                guard case .array(let items?) = command else { return }
                let words = items.map { item -> String in
                    if case .bulk(let bytes?) = item { return String(decoding: bytes, as: UTF8.self) }
                    return ""
                }
                let answer: String
                switch words.first?.uppercased() {
                case "SCRIPT": answer = "$40\r\n" + String(repeating: "a", count: 40) + "\r\n"
                case "EVALSHA", "EVAL":
                    evalCount.withLock { $0 += 1 }
                    answer = reply(words.count > 2 ? Int(words[2]) ?? 0 : 0)
                default: answer = "+OK\r\n"
                }
                let bytes = Array(answer.utf8)
                guard bytes.withUnsafeBytes({ send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
                else { return }
            }
        }
    }
}
