import JustGateRedis

/// How every `RedisOutboxStore` operation reaches Redis: one `EVALSHA` of `RedisOutboxScript` on the loop's
/// connection (the whole script once after `NOSCRIPT`), and what a failure means: a transport failure is an
/// outage of this loop (its state logged once each way by `RedisOutboxShared.report`), a script error is
/// Redis answering (`RedisOutboxShared.scriptFailed`), and a command written but not answered may have run.
extension RedisOutboxStore {
    /// `EVALSHA` of the script with `arguments` (then `binary`, then `trailing`); `completion` gets the reply,
    /// or nil when Redis failed (the connection's state tells the outage) or refused it (a script error).
    func run(_ arguments: [String], _ binary: [UInt8]? = nil, _ trailing: [String] = [],
             completion: @escaping (RESPValue?) -> Void) {
        if scriptDigest == nil, case .bulk(let bytes?) = connection.handshakeReplies.last {
            scriptDigest = String(decoding: bytes, as: UTF8.self)
        }
        var command: [[UInt8]] = [Array("EVALSHA".utf8), Array((scriptDigest ?? "").utf8), Array("1".utf8),
                                  Array(RedisOutboxScript.prefix.utf8)]
        command += arguments.map { Array($0.utf8) }
        if let binary { command.append(binary) }
        command += trailing.map { Array($0.utf8) }
        connection.send(bytes: command) { [weak self] result in
            guard let self else { return completion(nil) }
            switch result {
            case .success(let reply) where reply.errorCode == "NOSCRIPT":
                command[0] = Array("EVAL".utf8)
                command[1] = Array(RedisOutboxScript.source.utf8)
                self.connection.send(bytes: command) { [weak self] retry in
                    guard let self else { return completion(nil) }
                    if case .failure(let failure) = retry { return self.failed(failure, completion) }
                    self.checked(try? retry.get(), completion)
                }
            case .success(let reply):
                self.checked(reply, completion)
            case .failure(let failure):
                self.failed(failure, completion)
            }
        }
    }

    /// A script error (`-ERR`, `-OOM`) is Redis answering: logged on its own (`RedisOutboxShared.scriptFailed`),
    /// never counted as an outage, which only the connection's state decides.
    func failed(_ failure: RedisFailure, _ completion: (RESPValue?) -> Void) {
        // `.unavailable`: refused before anything was written; a timeout or a break came after the write.
        if case .unavailable = failure {} else { lastFailureMayHaveRun = true }
        completion(nil)
        lastFailureMayHaveRun = false
    }

    func checked(_ reply: RESPValue?, _ completion: (RESPValue?) -> Void) {
        if case .error(let text)? = reply {
            shared.scriptFailed(text)
            lastFailureWasScriptError = true
            completion(nil)
            lastFailureWasScriptError = false
            return
        }
        if reply != nil { setDown(false, reason: nil) }
        completion(reply)
    }

    func setDown(_ isDown: Bool, reason: String?) {
        guard isDown != down else { return }
        down = isDown
        shared.report(ObjectIdentifier(self), down: isDown, reason: reason)
    }
}
