import Yams

/// Per-site normalisation settings (`phone`, `email`, `ip`, `gender`), all optional.
extension ConfigLoader {
    /// Phone normalisation settings of one site.
    struct PhoneSettings {
        var countryCode: String?
        var trunkPrefix: String?
        var nationalNumberLength: Int?
    }

    /// E-mail settings of one site.
    struct EmailSettings {
        var lowercaseLocalPart = true
        var foldForLimits = false
    }

    /// Gender settings of one site; `allowed == nil` keeps the catalogue's rule.
    struct GenderSettings {
        var allowed: [String]?
    }

    static func phoneSettings(_ node: Node?, at path: String, reader: inout ConfigNodeReader) -> PhoneSettings? {
        guard let node else { return PhoneSettings() }
        let keys = ["default_country_code", "trunk_prefix", "national_number_length"]
        guard let section = reader.mapping(node, at: path, knownKeys: keys) else { return nil }
        let countryCode = section.value("default_country_code").map {
            digits($0, at: section.path(of: "default_country_code"), maxLength: 3, example: "7", reader: &reader)
        }
        let trunkPrefix = section.value("trunk_prefix").map {
            digits($0, at: section.path(of: "trunk_prefix"), maxLength: 4, example: "8", reader: &reader)
        }
        if case .some(.none) = countryCode { return nil }  // reported; the length cannot be checked against it
        let length: Int?? = section.value("national_number_length").map {
            nationalNumberLength($0, at: section.path(of: "national_number_length"),
                                 countryCode: countryCode ?? nil, reader: &reader)
        }
        if case .some(.none) = trunkPrefix { return nil }
        if case .some(.none) = length { return nil }
        return PhoneSettings(countryCode: countryCode ?? nil, trunkPrefix: trunkPrefix ?? nil,
                             nationalNumberLength: length ?? nil)
    }

    /// `national_number_length`: 1 to 14 digits, and with the country code at most E.164's 15, because a
    /// completed number longer than that would be refused on every request; meaningless without a country code.
    private static func nationalNumberLength(_ node: Node, at path: String, countryCode: String?,
                                             reader: inout ConfigNodeReader) -> Int? {
        guard let length = reader.int(node, at: path) else { return nil }
        guard (1...14).contains(length) else {
            reader.error("must be 1 to 14 (the digits of a national number without its trunk prefix), found \(length)",
                         at: path, node: node)
            return nil
        }
        guard let countryCode else {
            reader.error("""
                national_number_length needs default_country_code, the code put in front of numbers that long, \
                e.g. phone: { default_country_code: "44", national_number_length: 10 }
                """, at: path, node: node)
            return nil
        }
        guard countryCode.utf8.count + length <= PhoneRule.maxDigits else {
            reader.error("""
                country code \(countryCode) and \(length) national digits make \(countryCode.utf8.count + length) \
                digits, but an international number has at most \(PhoneRule.maxDigits)
                """, at: path, node: node)
            return nil
        }
        return length
    }

    /// Digits as written: `"7"`, `7` and `"07"` all keep their exact spelling (YAML would read `07` as octal).
    private static func digits(
        _ node: Node, at path: String, maxLength: Int, example: String, reader: inout ConfigNodeReader
    ) -> String? {
        let tag = node.tag.description
        guard case .scalar(let scalar) = node, tag == Tag.Name.str.rawValue || tag == Tag.Name.int.rawValue else {
            reader.error("expected digits such as \"\(example)\", found \(ConfigNodeReader.kind(of: node))",
                         at: path, node: node)
            return nil
        }
        let text = scalar.string
        guard (1...maxLength).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            reader.error("'\(text)' must be 1 to \(maxLength) digits without '+' or spaces, e.g. \"\(example)\"",
                         at: path, node: node)
            return nil
        }
        return text
    }

    /// `email: { lowercase_local_part: true, fold_for_limits: false }`.
    static func emailSettings(_ node: Node?, at path: String, reader: inout ConfigNodeReader) -> EmailSettings? {
        var settings = EmailSettings()
        guard let node else { return settings }
        let keys = ["lowercase_local_part", "fold_for_limits"]
        guard let section = reader.mapping(node, at: path, knownKeys: keys) else { return nil }
        let lowercase = reader.bool(in: section, "lowercase_local_part", default: settings.lowercaseLocalPart)
        let fold = reader.bool(in: section, "fold_for_limits", default: settings.foldForLimits)
        guard let lowercase, let fold else { return nil }
        settings.lowercaseLocalPart = lowercase
        settings.foldForLimits = fold
        return settings
    }

    /// A section holding one optional boolean, such as `email: { lowercase_local_part: true }`.
    static func flag(_ node: Node?, at path: String, key: String, default fallback: Bool,
                     reader: inout ConfigNodeReader) -> Bool? {
        guard let node else { return fallback }
        guard let section = reader.mapping(node, at: path, knownKeys: [key]) else { return nil }
        return reader.bool(in: section, key, default: fallback)
    }

    static func genderSettings(_ node: Node?, at path: String, reader: inout ConfigNodeReader) -> GenderSettings? {
        guard let node else { return GenderSettings() }
        guard let section = reader.mapping(node, at: path, knownKeys: ["allowed"]) else { return nil }
        guard let listNode = section.value("allowed") else { return GenderSettings() }
        let listPath = section.path(of: "allowed")
        guard let items = reader.sequence(listNode, at: listPath) else { return nil }
        guard !items.isEmpty else {
            reader.error("list at least one value, or remove gender to keep the default rule",
                         at: listPath, node: listNode)
            return nil
        }
        var allowed: [String] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(listPath, index)
            guard let value = reader.string(item, at: itemPath) else {
                isValid = false
                continue
            }
            let isWord = !value.isEmpty && value.utf8.count <= 32
                && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
            if !isWord {
                reader.error("'\(value)' must be 1 to 32 visible ASCII characters without spaces",
                             at: itemPath, node: item)
                isValid = false
            } else if allowed.contains(value) {
                reader.error("'\(value)' is listed twice", at: itemPath, node: item)
                isValid = false
            } else {
                allowed.append(value)
            }
        }
        return isValid ? GenderSettings(allowed: allowed) : nil
    }
}
