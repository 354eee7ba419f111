/// action.save and segments.get: user activity in, audience segments out.
extension SandboxAPI {
    func saveAction(_ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let juid = SandboxFieldRules.juid(request.formValue("juid")),
            let tags = SandboxFieldRules.present(request.formValue("tags")),
            let label = SandboxFieldRules.present(request.formValue("label"))
        else { return .text(400, "JuId is missing | Mandatory parameter is missing") }
        let article = SandboxFieldRules.present(request.formValue("article"))
        guard [tags, label, article ?? ""].allSatisfy(SandboxFieldRules.fitsStorage) else {
            return .text(400, "Error save data")
        }

        let segments = Self.numericTags(in: tags)
        let accepted: Void? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                profile.actionCount += 1
                for segment in segments where profile.tagSegments.count < SandboxLimits.maxSegmentsPerProfile {
                    profile.tagSegments.insert(segment)
                }
            }
        }
        guard accepted != nil else { return .text(404, "User not found") }
        return .text(200, "Request accepted")
    }

    func segments(_ request: SandboxRequest, project: String) -> SandboxResponse {
        let notFound = "User not found | JUID not found"
        // The reference's heading says POST with a form field, its examples GET with a query; accept both.
        let sent = request.method == "GET"
            ? request.queryValue("juid") : request.formValue("juid") ?? request.queryValue("juid")
        guard let juid = SandboxFieldRules.juid(sent) else { return .text(400, notFound) }
        guard let profile = store.withLock({ $0.profile(juid, project: project) }) else {
            return .text(404, notFound)
        }
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
