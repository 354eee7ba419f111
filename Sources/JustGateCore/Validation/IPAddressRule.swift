import JustGateHTTP

/// The `ip` rule: one spelling per address, so upstream sees the same client the same way.
///
/// `::FFFF:10.0.0.1`, `::ffff:a00:1` and `10.0.0.1` are one client; dual-stack proxies hand out the
/// mapped form, so it is folded to plain IPv4. Zone ids (`fe80::1%eth0`) are refused: they are
/// meaningful only on the host that wrote them, and inet_pton rejects them too.
enum IPAddressRule {
    static let example = "expected an IPv4 or IPv6 address like 203.0.113.7 or 2001:db8::1"

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        if value.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty, message: "\(example); got an empty value"))
        }
        guard let address = IPAddress(value) else {
            let hint = value.utf8.contains(UInt8(ascii: "%")) ? " without a zone id (%…)" : ""
            return .failure(FieldProblems(field: field, code: ProblemCode.invalidIP,
                message: "\(example)\(hint); got \(UnicodeText.echo(value))"))
        }
        let text = address.description
        if options.rejectNonPublicIP, let range = NonPublicRanges.range(containing: address) {
            return .failure(FieldProblems(field: field, code: ProblemCode.nonPublicIP,
                message: "expected a public address; \(text) is in the \(range) range"))
        }
        return .success(text)
    }
}
