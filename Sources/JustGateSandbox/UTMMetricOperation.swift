/// utm.update: rewrites the attribution of existing subscriptions found by address, which is how a site
/// corrects a refid after the fact (and so changes what the statistics report).
///
/// The reference lists `sms|email|push` for the channel. Push subscriptions are not made through this API (no
/// endpoint creates one), so the sandbox holds none: a well-formed push update is accepted with
/// `Metrics updated` and changes nothing, since there is no push record to change and the statistics cover
/// only sms and email.
extension SandboxAPI {
    func updateUTMMetrics(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let data = SandboxFieldRules.present(request.formValue("data")),
            let members = FlatJSONObjectReader.members(of: data),
            let changes = Self.metricChanges(in: members)
        else { return SandboxErrorText.invalidData.response }

        let address: String
        switch channel {
        case .email, .sms:
            let key = SandboxFieldRules.addressFieldName(for: channel)
            guard let found = Self.text(of: members[key]).flatMap({ SandboxFieldRules.address($0, channel: channel) })
            else { return SandboxErrorText.invalidData.response }
            address = found
        case .push:
            return Self.metricsUpdated
        }

        let key = SubscriptionKey(channel: channel, address: address)
        let updated = store.withLock { store in
            store.modifySubscriptions(matching: key, project: project) { subscription in
                for (field, value) in changes {
                    subscription.metrics[field] = value
                }
            }
        }
        guard updated > 0 else { return SandboxErrorText.unprocessableEntity.response }
        return Self.metricsUpdated
    }

    private static let metricsUpdated = SandboxResponse.text(200, "Metrics updated")

    /// The requested metric changes (a `nil` value clears the field), or `nil` when there are none or one has a
    /// value no column could hold: a boolean, an object, an array or an over-long text.
    private static func metricChanges(in members: [String: FlatJSONValue]) -> [(MetricField, String?)]? {
        var changes: [(MetricField, String?)] = []
        for field in MetricField.updatableByUTM {
            guard let value = members[field.rawValue] else { continue }
            switch value {
            case .null:
                changes.append((field, nil))
            case .string, .number:
                let text = self.text(of: value) ?? ""
                guard SandboxFieldRules.fitsStorage(text) else { return nil }
                changes.append((field, text.isEmpty ? nil : text))
            case .bool, .nested:
                return nil
            }
        }
        return changes.isEmpty ? nil : changes
    }

    /// The text of a string or number member; numbers matter because the reference sends `"number":99988800066`.
    private static func text(of value: FlatJSONValue?) -> String? {
        switch value {
        case .string(let text), .number(let text): text
        default: nil
        }
    }
}
