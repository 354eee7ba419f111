/// stat.count_by_refid and stat.by_refid: how many subscriptions each referral source brought in.
///
/// Both read a snapshot of the channel's subscriptions taken under the lock and aggregate outside it.
///
/// The reference calls these counts "registered users"; the sandbox counts subscriptions (a user subscribed
/// on two addresses counts twice), keeps deactivated ones (they were registered), dates each by its first
/// subscribe call, groups by its current refid (so a later UTM update or re-subscribe moves it) and puts
/// those without a refid under `""`. Days are UTC and both ends of a range are included.
extension SandboxAPI {
    /// The reference lists `User not found` for this operation although it takes no juid; the sandbox answers
    /// it when no registered user (subscription) of the channel falls in the range, where one might expect `[]`.
    func countByRefid(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let start = request.queryValue("startDate").flatMap(SandboxFieldRules.int64),
            let end = request.queryValue("endDate").flatMap(SandboxFieldRules.int64),
            start <= end
        else { return SandboxErrorText.invalidUnixRange.response }
        guard Self.storableSeconds.contains(start), Self.storableSeconds.contains(end) else {
            return SandboxErrorText.errorQuery.response
        }

        var counts: [String: Int] = [:]
        for subscription in subscriptions(on: channel, project: project, createdIn: start...end) {
            counts[subscription.refidForStatistics, default: 0] += 1
        }
        guard !counts.isEmpty else { return SandboxErrorText.userNotFound.response }
        let rows = counts.sorted { $0.key < $1.key }.map { refid, count in
            JSONText.object([("subscount", String(count)), ("refid", JSONText.quoted(refid))])
        }
        return .jsonBody("[" + rows.joined(separator: ",") + "]")
    }

    /// An empty range answers `{}`: the reference lists no "not found" text for this operation.
    func statByRefid(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let start = request.queryValue("start").flatMap(CivilTime.unixSeconds(parsing:)),
            let end = request.queryValue("end").flatMap(CivilTime.unixSeconds(parsing:)),
            start <= end
        else { return SandboxErrorText.invalidDateRange.response }
        guard Self.storableSeconds.contains(start), Self.storableSeconds.contains(end) else {
            return SandboxErrorText.errorQuery.response
        }

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

    /// What the emulated store's date column holds, like SQL's `DATETIME`: 1000-01-01 00:00:00 to
    /// 9999-12-31 23:59:59 UTC. A range bound outside it makes the query fail, which is the sandbox's
    /// cause for `Error query`.
    static let storableSeconds: ClosedRange<Int64> =
        CivilTime.days(year: 1000, month: 1, day: 1) * CivilTime.secondsPerDay
        ... CivilTime.days(year: 9999, month: 12, day: 31) * CivilTime.secondsPerDay + CivilTime.secondsPerDay - 1

    /// The channel's subscriptions first subscribed within `range`, copied out so aggregation runs unlocked.
    private func subscriptions(
        on channel: SandboxChannel,
        project: String,
        createdIn range: ClosedRange<Int64>
    ) -> [SandboxSubscription] {
        store.withLock { $0.subscriptions(on: channel, project: project) }.filter { range.contains($0.createdAt) }
    }
}
