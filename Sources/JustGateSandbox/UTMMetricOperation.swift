/// utm.update: rewrites the attribution of existing subscriptions found by address, which is how a site
/// corrects a refid after the fact (and so changes what the statistics report).
extension SandboxAPI {
    func updateUTMMetrics(_ channel: SandboxChannel, _ request: SandboxRequest, project: String) -> SandboxResponse {
        guard let data = SandboxFieldRules.present(request.formValue("data")),
            let members = FlatJSONObjectReader.members(of: data),
            let changes = Self.metricChanges(in: members)
        else { return .text(400, "Invalid data") }

        let address: String
        switch channel {
        case .email, .sms:
            let key = SandboxFieldRules.addressFieldName(for: channel)
            guard let found = Self.text(of: members[key]).flatMap({ SandboxFieldRules.address($0, channel: channel) })
            else { return .text(400, "Invalid data") }
            address = found
        case .push:
            // No endpoint creates push subscriptions, so there is never one to update.
            return .text(422, "Unprocessable Entity")
        }

        let key = SubscriptionKey(channel: channel, address: address)
        let updated = store.withLock { store in
            store.modifySubscriptions(matching: key, project: project) { subscription in
                for (field, value) in changes {
                    subscription.metrics[field] = value
                }
            }
        }
        guard updated > 0 else { return .text(422, "Unprocessable Entity") }
        return .text(200, "Metrics updated")
    }

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
