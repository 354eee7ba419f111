/// subscribe.email/sms and unsubscribe.email/sms: the lifecycle of a subscription on one address.
extension SandboxAPI {
    func subscribe(
        _ channel: SandboxChannel,
        _ request: SandboxRequest,
        project: String,
        now: Int64
    ) -> SandboxResponse {
        let invalidInput = channel == .sms ? "JuId empty | Not validate number" : "JuId empty / Not validate email"
        let addressField = SandboxFieldRules.addressFieldName(for: channel)
        guard let juid = SandboxFieldRules.juid(request.formValue("juid")),
            let address = SandboxFieldRules.address(request.formValue(addressField), channel: channel)
        else { return .text(400, invalidInput) }

        var metrics: [MetricField: String] = [:]
        for field in MetricField.allCases {
            metrics[field] = SandboxFieldRules.present(request.formValue(field.rawValue))
        }
        guard SandboxFieldRules.fitsStorage(address), metrics.values.allSatisfy(SandboxFieldRules.fitsStorage) else {
            return .text(400, "Error save data")
        }

        let key = SubscriptionKey(channel: channel, address: address)
        let stored: Bool? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                if var existing = profile.subscriptions[key] {
                    existing.metrics.merge(metrics) { _, sent in sent }
                    existing.active = true
                    profile.subscriptions[key] = existing
                    return true
                }
                guard profile.subscriptions.count < SandboxLimits.maxSubscriptionsPerProfile else { return false }
                profile.subscriptions[key] = SandboxSubscription(metrics: metrics, createdAt: now, active: true)
                return true
            }
        }
        switch stored {
        case nil: return .text(404, "User not found")
        case false: return .text(500, "Error save data")
        case true: return .text(200, "Subscription created")
        }
    }

    func unsubscribe(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        let addressField = SandboxFieldRules.addressFieldName(for: channel)
        guard let juid = SandboxFieldRules.juid(request.formValue("juid")),
            let address = SandboxFieldRules.address(request.formValue(addressField), channel: channel)
        else { return .text(400, "JuId is missing | Mandatory parameter is missing") }

        let key = SubscriptionKey(channel: channel, address: address)
        let deactivated: Bool? = store.withLock { store in
            store.modifyProfile(juid, project: project) { profile in
                guard profile.subscriptions[key] != nil else { return false }
                profile.subscriptions[key]?.active = false
                return true
            }
        }
        guard deactivated == true else { return .text(404, "User not found | Subscription not found") }
        return .text(200, "Subscription deactivated")
    }
}
