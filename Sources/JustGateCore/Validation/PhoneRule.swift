/// The `number` rule: turns what people type into the E.164 digits (no `+`) the upstream API stores.
///
/// Sites collect numbers in local habits, `8 (912) 345-67-89`, `+7 912 345-67-89`, `0079123456789`; the
/// upstream API only matches profiles when the same phone is always written the same way, so every
/// form collapses to country code plus subscriber number, digits only.
///
/// National numbers become international in two ways, both only without a `+` or `00`: a number of exactly
/// the country's national-number length (10 for country code 7; `phone.national_number_length` for others)
/// gets the country code in front, `9123456789` becomes `79123456789`; otherwise the site's trunk prefix is
/// replaced by its country code: with country code `7` and trunk prefix `8`, `89123456789` becomes
/// `79123456789`. The length comes first, so a national number that begins with the trunk digit
/// (`8123456789`, St Petersburg) is completed rather than mangled. Without this, one phone written two ways
/// was forwarded two ways and counted as two people by a per-number rate limit. Any other number without an
/// international marker is taken to be international already, so an international number exactly as long
/// as the national numbers (`4681234567`, Stockholm, on a Russian site) must be written with `+` or `00`.
///
/// Because the output has no `+`, an international number whose country code starts with the trunk digit
/// (`+86…` on a site with trunk `8`), or that is as long as a national number, would be read as national if
/// it were normalised a second time; sites forward each value once, so this only matters to stored values
/// being re-validated.
package enum PhoneRule {
    package static let minDigits = 8
    package static let maxDigits = 15

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        if value.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty,
                message: "expected a phone number like +7 912 345-67-89; got an empty value"))
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var sawPlus = false
        if !collectASCII(value, into: &digits, sawPlus: &sawPlus) {
            digits.removeAll(keepingCapacity: true)
            sawPlus = false
            if let problem = collectScalars(value, field: field, into: &digits, sawPlus: &sawPlus) { return .failure(problem) }
        }
        if !sawPlus && digits.count >= 2 && digits[0] == UInt8(ascii: "0") && digits[1] == UInt8(ascii: "0") {
            digits.removeFirst(2)
            sawPlus = true
        }
        // Both edits work in place on `digits`, whose room for 16 was reserved: no array per request.
        if !sawPlus && !completeNational(&digits, options: options) {
            _ = replaceTrunkPrefix(&digits, options: options)
        }

        var problems: [FieldProblem] = []
        if digits.count < minDigits || digits.count > maxDigits {
            problems.append(FieldProblem(field: field, code: ProblemCode.invalidPhone,
                message: "expected \(minDigits) to \(maxDigits) digits after removing spaces and punctuation; got \(digits.count)"))
        }
        if digits.first == UInt8(ascii: "0") {
            problems.append(FieldProblem(field: field, code: ProblemCode.invalidPhone,
                message: "expected an international number starting with a country code; after removing + or 00 it starts with 0"))
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(String(decoding: digits, as: UTF8.self))
    }

    /// The digits of a number typed in ASCII (nearly every one), read byte by byte: false, with `digits` and
    /// `sawPlus` to be thrown away, at the first byte `collectScalars` must judge (non-ASCII, a misplaced `+`,
    /// anything refused), so the two always agree and a refusal is worded by `collectScalars` alone. Walking
    /// Unicode scalars cost ~2,000 instructions for a dozen characters, on every request that carries a number.
    static func collectASCII(_ value: Substring, into digits: inout [UInt8], sawPlus: inout Bool) -> Bool {
        var value = value
        return value.withUTF8 { bytes in collectASCII(bytes, into: &digits, sawPlus: &sawPlus) }
    }

    private static func collectASCII(_ bytes: UnsafeBufferPointer<UInt8>, into digits: inout [UInt8], sawPlus: inout Bool) -> Bool {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"):
                continue
            case UInt8(ascii: "+") where digits.isEmpty && !sawPlus:
                sawPlus = true
            case 0x20, 0x09...0x0D:  // the ASCII spaces `UnicodeText.isWhitespace` accepts
                continue
            default:
                return false
            }
        }
        return true
    }

    /// The digits of any number, scalar by scalar; the problem when a scalar is not allowed in one.
    static func collectScalars(_ value: Substring, field: String, into digits: inout [UInt8], sawPlus: inout Bool) -> FieldProblems? {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "0"..."9":
                digits.append(UInt8(scalar.value))
            case "-", ".", "(", ")":
                continue
            case "+" where digits.isEmpty && !sawPlus:
                sawPlus = true
            default:
                if UnicodeText.isWhitespace(scalar) { continue }  // any space, also NBSP and tabs
                let what = scalar.properties.isAlphabetic ? "a letter" : "the character \(UnicodeText.echo(String(scalar)))"
                return FieldProblems(field: field, code: ProblemCode.invalidPhone,
                    message: "expected only digits, spaces and + ( ) - . in a phone number; found \(what)")
            }
        }
        return nil
    }

    /// National-number lengths of numbering plans where every number has the same length, by country code.
    /// NANP (`1`) and the Russian/Kazakh plan (`7`) are closed 10-digit plans; most others vary and need
    /// `phone.national_number_length` set by the site that knows its audience.
    static let knownNationalLengths: [String: Int] = ["1": 10, "7": 10]

    /// The national-number length the site's numbers are completed at: the configured one, else the known
    /// one for the site's country code; nil when there is no country code or no length for it.
    static func nationalLength(_ options: ValidationOptions) -> Int? {
        guard let countryCode = options.phoneDefaultCountryCode else { return nil }
        return options.phoneNationalNumberLength ?? knownNationalLengths[countryCode]
    }

    /// Puts the country code in front of a number of exactly the national length, in place; false (and
    /// `digits` unchanged) when that does not apply. A leading 0 is never a national number's first digit
    /// (it is a trunk or international prefix), so such a number is left for the leading-zero check to refuse.
    static func completeNational(_ digits: inout [UInt8], options: ValidationOptions) -> Bool {
        guard let length = nationalLength(options), digits.count == length, digits.first != UInt8(ascii: "0"),
              let countryCode = options.phoneDefaultCountryCode, isDigits(countryCode)
        else { return false }
        digits.insert(contentsOf: countryCode.utf8, at: 0)
        return true
    }

    /// Replaces the site's trunk prefix by its country code, in place; false (and `digits` unchanged) when
    /// that does not apply.
    static func replaceTrunkPrefix(_ digits: inout [UInt8], options: ValidationOptions) -> Bool {
        guard let countryCode = options.phoneDefaultCountryCode, let trunk = options.phoneTrunkPrefix,
            !trunk.isEmpty, isDigits(countryCode), isDigits(trunk), digits.starts(with: trunk.utf8)
        else { return false }
        digits.replaceSubrange(0..<trunk.utf8.count, with: countryCode.utf8)
        return true
    }

    static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
