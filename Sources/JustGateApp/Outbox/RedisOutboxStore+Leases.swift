import JustGateRedis

/// Keeping the leases of the entries under way on this loop: renewed every third of `lease_ms` while there
/// are any, and a lease the renewal did not keep ends its attempt (`onLeaseLost`), so a gateway never sends
/// on after another may have taken the juid over.
extension RedisOutboxStore {
    /// Renews the leases of the keys under way every third of `lease_ms`, while there are any.
    func scheduleRenewal() {
        guard renewTimer == nil else { return }
        renewTimer = loop.scheduleTimer(afterMs: max(shared.leaseMs / 3, 10)) { [weak self] in
            guard let self else { return }
            self.renewTimer = nil
            guard !self.held.isEmpty else { return }
            let sent = self.held.map { (id: $0.key, token: $0.value.token) }
            var arguments = ["renew", String(self.shared.leaseMs)]
            for (id, _) in sent { arguments += [self.held[id]?.member ?? "", self.held[id]?.token ?? ""] }
            self.run(arguments) { [weak self] reply in self?.renewed(sent, reply) }
            self.scheduleRenewal()
        }
    }

    /// A renewal's answer: a lease it did not renew is lost (another gateway may hold its key by now, or will
    /// before the attempt ends), and so are all of them when no answer came. Their attempts are stopped
    /// without recording anything: whoever holds the key next repeats the attempt, after this one.
    private func renewed(_ sent: [(id: String, token: String)], _ reply: RESPValue?) {
        var flags: [RESPValue] = []
        if case .array(let items?)? = reply, items.count == sent.count { flags = items }
        for (index, lease) in sent.enumerated() where flags.isEmpty || flags[index] != .integer(1) {
            // Settled meanwhile, or claimed again under a new token: not this renewal's to end.
            guard held[lease.id]?.token == lease.token else { continue }
            held.removeValue(forKey: lease.id)
            shared.logger.notice("""
                an outbox entry's lease could not be renewed; its attempt is stopped and repeated by whichever \
                gateway takes the key next (check Redis, and that outbox.lease_ms is well above the upstream's timeouts)
                """, metadata: ["outbox_entry": .string(lease.id)])
            onLeaseLost?(lease.id)
        }
    }
}
