import Foundation
import JustGateCore

/// The shipped example configs hold placeholder hashes (`"000…0"`, `"111…1"`) that the loader refuses, as an
/// operator must replace them; tests that run those configs put real hashes in their place.
enum ConfigPlaceholders {
    /// `yaml` with each quoted 64-hex-digit placeholder (two distinct digits at most) replaced by a real hash.
    static func filled(_ yaml: String) -> String {
        var result = yaml
        var index = 0
        let pattern = try? NSRegularExpression(pattern: "\"[0-9a-fA-F]{64}\"")
        let matches = pattern?.matches(in: yaml, range: NSRange(yaml.startIndex..., in: yaml)) ?? []
        for match in matches.reversed() {
            guard let range = Range(match.range, in: result) else { continue }
            let digits = result[range].dropFirst().dropLast()
            guard Set(digits.lowercased()).count <= 2 else { continue }
            index += 1
            result.replaceSubrange(range, with: "\"\(SiteKeys.sha256Hex("placeholder-\(index)"))\"")
        }
        return result
    }
}
