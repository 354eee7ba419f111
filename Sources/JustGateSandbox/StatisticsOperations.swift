/// stat.count_by_refid and stat.by_refid: how many subscriptions each referral source brought in.
///
/// Both read a snapshot of the channel's subscriptions taken under the lock and aggregate outside it.
extension SandboxAPI {
    func countByRefid(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let start = request.queryValue("startDate").flatMap(SandboxFieldRules.int64),
            let end = request.queryValue("endDate").flatMap(SandboxFieldRules.int64),
            start <= end
        else { return .text(400, "Invalid startDate or endDate") }

        var counts: [String: Int] = [:]
        for subscription in subscriptions(on: channel, project: project, createdIn: start...end) {
            counts[subscription.refidForStatistics, default: 0] += 1
        }
        let rows = counts.sorted { $0.key < $1.key }.map { refid, count in
            JSONText.object([("subscount", String(count)), ("refid", JSONText.quoted(refid))])
        }
        return .jsonBody("[" + rows.joined(separator: ",") + "]")
    }

    func statByRefid(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let start = request.queryValue("start").flatMap(CivilTime.unixSeconds(parsing:)),
            let end = request.queryValue("end").flatMap(CivilTime.unixSeconds(parsing:)),
            start <= end
        else { return .text(400, "Invalid start or end date") }

        var countsByDay: [String: [String: Int]] = [:]
        for subscription in subscriptions(on: channel, project: project, createdIn: start...end) {
            let day = CivilTime.dateString(unixSeconds: subscription.createdAt)
            countsByDay[day, default: [:]][subscription.refidForStatistics, default: 0] += 1
        }
        let days = countsByDay.sorted { $0.key < $1.key }.map { day, counts in
            let perRefid = counts.sorted { $0.key < $1.key }.map { (key: $0.key, renderedValue: String($0.value)) }
            return (key: day, renderedValue: JSONText.object(perRefid))
        }
        return .jsonBody(JSONText.object(days))
    }

    /// The channel's subscriptions first subscribed within `range`, copied out so aggregation runs unlocked.
    private func subscriptions(
        on channel: SandboxChannel,
        project: String,
        createdIn range: ClosedRange<Int64>
    ) -> [SandboxSubscription] {
        store.withLock { $0.subscriptions(on: channel, project: project) }.filter { range.contains($0.createdAt) }
    }
}
