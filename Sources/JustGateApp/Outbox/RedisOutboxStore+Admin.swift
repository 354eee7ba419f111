import JustGateCore
import JustGateRedis

/// The admin endpoints on the shared outbox: each is a script run on the admin loop's own connection, so an
/// operator sees and changes what every gateway sees (`GET /outbox` on any gateway lists all of them).
extension RedisOutboxStore: OutboxAdminStore {
    func list(state: OutboxEntry.State, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void) {
        run(["list", state.rawValue, String(limit)]) { reply in
            guard case .array(let items?) = reply else { return completion(nil) }
            completion(items.compactMap { RedisOutboxStore.decode($0) })
        }
    }

    /// A dead entry is pending again and due now, its attempts kept; it joins the end of its juid's queue.
    func retry(id: String, completion: @escaping (Bool?) -> Void) {
        guard Self.isEntryID(id) else { return completion(false) }
        entry(id: id) { [self] lookup in
            guard case .found(var entry) = lookup else { return completion(lookup.isUnavailable ? nil : false) }
            guard entry.state == .dead else { return completion(false) }
            entry.state = .pending
            entry.nextAttemptAtMs = OutboxFileStore.wallClockMs()
            var record: [UInt8] = []
            OutboxRecordCodec.append(.entry(entry), to: &record)
            run(["retry", id], record, [String(entry.accountedBytes)]) { reply in
                switch reply {
                case .bulk(let text?)?: completion(text == Array("ok".utf8))
                default: completion(nil)
                }
            }
        }
    }

    func drop(id: String, completion: @escaping (Bool?) -> Void) {
        guard Self.isEntryID(id) else { return completion(false) }
        run(["drop", id]) { reply in
            switch reply {
            case .bulk(let text?)?: completion(text == Array("ok".utf8))
            default: completion(nil)
            }
        }
    }
}
