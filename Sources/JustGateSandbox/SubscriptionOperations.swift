/// subscribe.email/sms and unsubscribe.email/sms: the lifecycle of a subscription on one address.
///
/// Both check what was sent, then look the user up, then the subscription, and answer with the one message of
/// the reference's line that applies. Success is an empty body, as in the reference's examples.
extension SandboxAPI {
    func subscribe(
        _ channel: SandboxChannel,
        _ request: SandboxRequest,
        project: String,
        now: Int64
    ) -> SandboxResponse {
        guard let juidText = SandboxFieldRules.present(request.formValue("juid")) else {
            return (channel == .sms ? SandboxErrorText.juidEmpty : .emailSubscriptionInvalid).response
        }
        let addressField = SandboxFieldRules.addressFieldName(for: channel)
        guard let address = SandboxFieldRules.address(request.formValue(addressField), channel: channel) else {
            return (channel == .sms ? SandboxErrorText.numberNotValid : .emailSubscriptionInvalid).response
        }
        // A `juid` that is not 32 hex digits can name no profile, so it is "not found" rather than invalid.
        guard let juid = SandboxFieldRules.juid(juidText) else { return SandboxErrorText.userNotFound.response }

        var metrics: [MetricField: String] = [:]
        for field in MetricField.allCases {
            metrics[field] = SandboxFieldRules.present(request.formValue(field.rawValue))
        }
        let fits = SandboxFieldRules.fitsStorage(address) && metrics.values.allSatisfy(SandboxFieldRules.fitsStorage)

        let key = SubscriptionKey(channel: channel, address: address)
        let outcome: SaveOutcome? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                guard fits else { return .tooLong }
                if var existing = profile.subscriptions[key] {
                    existing.metrics.merge(metrics) { _, sent in sent }
                    existing.active = true
                    profile.subscriptions[key] = existing
                    return .saved
                }
                guard profile.subscriptions.count < SandboxLimits.maxSubscriptionsPerProfile else { return .full }
                profile.subscriptions[key] = SandboxSubscription(metrics: metrics, createdAt: now, active: true)
                return .saved
            }
        }
        switch outcome {
        case nil: return SandboxErrorText.userNotFound.response
        case .tooLong: return SandboxErrorText.errorSaveDataTooLong.response
        case .full: return SandboxErrorText.errorSaveData.response
        case .saved: return .emptySuccess
        }
    }

    func unsubscribe(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let juidText = SandboxFieldRules.present(request.formValue("juid")) else {
            return SandboxErrorText.juidMissing.response
        }
        let addressField = SandboxFieldRules.addressFieldName(for: channel)
        guard let addressText = SandboxFieldRules.present(request.formValue(addressField)) else {
            return SandboxErrorText.mandatoryParameterMissing.response
        }
        guard let juid = SandboxFieldRules.juid(juidText) else { return SandboxErrorText.userNotFound.response }
        // An address that could never have been subscribed (say, a URL in `email`) is simply not found.
        let key = SandboxFieldRules.address(addressText, channel: channel).map {
            SubscriptionKey(channel: channel, address: $0)
        }

        let deactivated: Bool? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                guard let key, profile.subscriptions[key] != nil else { return false }
                profile.subscriptions[key]?.active = false
                return true
            }
        }
        switch deactivated {
        case nil: return SandboxErrorText.userNotFound.response
        case false: return SandboxErrorText.subscriptionNotFound.response
        case true: return .emptySuccess
        }
    }
}

/// What storing a subscription or an action came to, once its profile was found.
enum SaveOutcome {
    case saved
    /// A field is longer than the emulated store's columns.
    case tooLong
    /// The profile holds as many subscriptions as it may.
    case full
}
