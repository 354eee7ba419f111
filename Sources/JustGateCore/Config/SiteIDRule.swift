/// What a site id may be: 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.
/// Ids reach metric labels, log fields, audit records and Redis key names, so they are kept to characters
/// that need no escaping anywhere; the admin endpoints check a `?site=` against the same rule.
public enum SiteIDRule {
    public static func isValid(_ id: String) -> Bool {
        let bytes = id.utf8
        guard (1...64).contains(bytes.count) else { return false }
        for (offset, byte) in bytes.enumerated() {
            let letterOrDigit = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            guard letterOrDigit || (offset > 0 && (byte == 0x2E || byte == 0x5F || byte == 0x2D)) else { return false }
        }
        return true
    }
}
