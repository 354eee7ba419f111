/// action.save and segments.get: user activity in, audience segments out.
extension SandboxAPI {
    /// The reference lists only `Request accepted` for this operation; the errors are the sandbox's own, worded
    /// like unsubscribe's (the same `juid` check) and subscribe's (the same store).
    func saveAction(_ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let juidText = SandboxFieldRules.present(request.formValue("juid")) else {
            return SandboxErrorText.juidMissing.response
        }
        guard let tags = SandboxFieldRules.present(request.formValue("tags")),
            let label = SandboxFieldRules.present(request.formValue("label"))
        else { return SandboxErrorText.mandatoryParameterMissing.response }
        guard let juid = SandboxFieldRules.juid(juidText) else { return SandboxErrorText.userNotFound.response }
        let article = SandboxFieldRules.present(request.formValue("article"))
        let fits = [tags, label, article ?? ""].allSatisfy(SandboxFieldRules.fitsStorage)

        let segments = Self.numericTags(in: tags)
        let outcome: SaveOutcome? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                guard fits else { return .tooLong }
                profile.actionCount += 1
                for segment in segments where profile.tagSegments.count < SandboxLimits.maxSegmentsPerProfile {
                    profile.tagSegments.insert(segment)
                }
                return .saved
            }
        }
        switch outcome {
        case nil: return SandboxErrorText.userNotFound.response
        case .tooLong: return SandboxErrorText.errorSaveDataTooLong.response
        case .full: return SandboxErrorText.errorSaveData.response
        case .saved: return .text(200, "Request accepted")
        }
    }

    /// The reference's line is `User not found | JUID not found`. The sandbox reads `JUID not found` as "the
    /// request carries no juid" and `User not found` as "no profile has this juid".
    func segments(_ request: SandboxRequest, project: String) -> SandboxResponse {
        // The reference's heading says POST with a form field, its examples GET with a query; accept both.
        let sent = request.method == "GET"
            ? request.queryValue("juid") : request.formValue("juid") ?? request.queryValue("juid")
        guard let juidText = SandboxFieldRules.present(sent) else { return SandboxErrorText.juidNotFound.response }
        guard let juid = SandboxFieldRules.juid(juidText),
            let profile = store.withLock({ $0.profile(juid, project: project) })
        else { return SandboxErrorText.userNotFound.response }
        return .jsonBody(JSONText.array(of: Self.segmentIDs(of: profile)))
    }

    /// Segment id for users with an active email subscription (the reference's sample answer is `[35,36]`).
    static let activeEmailSegment = 35
    /// Segment id for users with an active SMS subscription.
    static let activeSMSSegment = 36

    /// The user's segments, sorted and unique: numeric action tags plus the two subscription segments.
    static func segmentIDs(of profile: SandboxProfile) -> [Int] {
        var ids = profile.tagSegments
        if profile.hasActiveSubscription(on: .email) { ids.insert(activeEmailSegment) }
        if profile.hasActiveSubscription(on: .sms) { ids.insert(activeSMSSegment) }
        return ids.sorted()
    }

    /// The tags of `"1, 2,promo,3"` that are non-negative integers (`[1, 2, 3]`); others are labels, not segments.
    static func numericTags(in tags: String) -> [Int] {
        tags.split(separator: ",").compactMap { tag in
            let trimmed = tag.utf8.drop(while: { $0 == 0x20 }).reversed().drop(while: { $0 == 0x20 }).reversed()
            let text = String(decoding: trimmed, as: UTF8.self)
            guard text.utf8.allSatisfy(SandboxFieldRules.isDigit), let value = SandboxFieldRules.int64(text) else {
                return nil
            }
            return Int(exactly: value)
        }
    }
}
