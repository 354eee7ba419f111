import JustGateCore
import JustGateRedis

/// The admin endpoints on the shared outbox: each is a script run on the admin loop's own connection, so an
/// operator sees and changes what every gateway sees (`GET /outbox` on any gateway lists all of them).
extension RedisOutboxStore: OutboxAdminStore {
    /// With `site`, pending and dead entries come from the site's own sets (`ps:`, `ds:`; incomplete only
    /// while a repair after an upgrade runs, `RedisOutboxScript`); delivered ones have none, so the oldest
    /// `siteScanLimit` are read and the site's kept.
    func list(state: OutboxEntry.State, site: String?, limit: Int, completion: @escaping ([OutboxEntry]?) -> Void) {
        let asked = site != nil && state == .delivered ? max(limit, Self.siteScanLimit) : limit
        var arguments = ["list", state.rawValue, String(asked)]
        if let site { arguments.append(site) }
        run(arguments) { reply in
            guard case .array(let items?) = reply else { return completion(nil) }
            let entries = items.lazy.compactMap { RedisOutboxStore.decode($0) }.filter { site == nil || $0.siteID == site }
            completion(Array(entries.prefix(limit)))
        }
    }

    /// How many of the oldest delivered entries a listing by site looks at.
    static let siteScanLimit = 10_000

    /// One after another, each a round trip on this loop (its answer comes on a later turn, so the chain never
    /// nests on the stack). Redis becoming unreachable part-way ends the chain with what was done.
    func retry(ids: [String], completion: @escaping (BulkRetryOutcome?) -> Void) {
        var outcome = BulkRetryOutcome()
        func next(_ index: Int) {
            guard index < ids.count else { return completion(outcome) }
            retry(id: ids[index]) { retried in
                switch retried {
                case true?:
                    outcome.retried.append(ids[index])
                    next(index + 1)
                case false?:
                    next(index + 1)
                case nil:
                    guard index > 0 else { return completion(nil) }
                    outcome.interrupted = true
                    completion(outcome)
                }
            }
        }
        next(0)
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
