/// `justgate_secret_source_up{source="vault"}` and `justgate_secret_source_last_success_timestamp_seconds`: whether
/// the gateway reaches Vault, and when it last read every secret, so an alert fires while it runs on last values.
///
/// Written at scrape time from `VaultSecretSource.status` like `SiteKeyMetrics`; one label value, so the
/// series are bounded. Without `secrets.vault` the families have HELP and TYPE but no sample.
enum SecretSourceMetric {
    static let upName = "justgate_secret_source_up"
    static let lastSuccessName = "justgate_secret_source_last_success_timestamp_seconds"

    static func append(_ status: VaultSecretSource.Status?, into buffer: inout [UInt8]) {
        for name in [upName, lastSuccessName] {
            MetricHelp.appendGaugeHeader(name, into: &buffer)
            guard let status else { continue }
            if name == upName {
                buffer.append(contentsOf: "\(name){source=\"vault\"} \(status.up ? 1 : 0)\n".utf8)
            } else if let last = status.lastSuccess {
                buffer.append(contentsOf: "\(name){source=\"vault\"} \(last)\n".utf8)
            }
        }
    }
}
