/// The `email` rule: WHATWG syntax plus the length limits of RFC 5321, and a dot in the domain.
///
/// WHATWG's syntax is what browsers accept in `<input type=email>`, so a value a site's form let through
/// is not refused here for RFC 5322 subtleties (quoted local parts, comments) no real sign-up uses.
/// A dot in the domain is required because dotless domains are never deliverable from the public
/// internet. Internationalised domains are refused unless written in punycode (`xn--…`): converting
/// them needs IDNA tables this pure module does not carry.
package enum EmailRule {
    package static let maxLength = 254
    package static let maxLocalLength = 64
    package static let maxLabelLength = 63
    static let example = "expected an e-mail address like name@example.com"

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        if value.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty, message: "\(example); got an empty value"))
        }
        let scan = withBytes(of: value, EmailSyntax.scan)
        let problems = describe(scan, value: value, field: field)
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(lowercased(value, localPartToo: options.lowercaseEmailLocalPart, localLength: scan.localLength))
    }

    /// Every reason `scan` fails; empty when the address is acceptable.
    static func describe(_ scan: EmailScan, value: Substring, field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        func add(_ code: String, _ message: String) {
            problems.append(FieldProblem(field: field, code: code, message: message))
        }
        if scan.atCount == 0 {
            add(ProblemCode.invalidEmail, "\(example); there is no @ in \(UnicodeText.echo(value))")
        } else if scan.atCount > 1 {
            add(ProblemCode.invalidEmail, "\(example); found \(scan.atCount) @ signs, expected exactly one")
        } else if scan.hasSpace {
            add(ProblemCode.invalidEmail, "\(example); it must not contain spaces")
        } else {
            if scan.localLength == 0 {
                add(ProblemCode.invalidEmail, "\(example); the part before @ is empty")
            } else if scan.localHasBadByte {
                add(ProblemCode.invalidEmail,
                    "\(example); the part before @ may only contain letters, digits and .!#$%&'*+/=?^_`{|}~-")
            }
            if scan.domainLength == 0 {
                add(ProblemCode.invalidEmail, "\(example); the part after @ is empty")
            } else if scan.domainHasNonASCII {
                add(ProblemCode.invalidEmail,
                    "\(example); write an internationalised domain in punycode (xn--…)")
            } else if scan.domainHasBadByte || scan.domainHasBadStructure {
                add(ProblemCode.invalidEmail,
                    "\(example); the domain must be dot-separated labels of letters, digits and inner hyphens")
            } else if scan.domainDots == 0 {
                add(ProblemCode.invalidEmail, "\(example); the domain needs at least one dot, like example.com")
            }
        }
        let total = UnicodeText.scalarCount(value)
        if total > maxLength {
            add(ProblemCode.tooLong, "expected at most \(maxLength) characters in an e-mail address; got \(total)")
        }
        if scan.atCount > 0 && scan.localLength > maxLocalLength {
            add(ProblemCode.tooLong, "expected at most \(maxLocalLength) characters before @; got \(scan.localLength)")
        }
        if scan.longestLabel > maxLabelLength {
            add(ProblemCode.tooLong, "expected at most \(maxLabelLength) characters between dots in the domain; got \(scan.longestLabel)")
        }
        return problems
    }

    /// Lowercases the ASCII letters of a validated (hence all-ASCII) address.
    static func lowercased(_ value: Substring, localPartToo: Bool, localLength: Int) -> String {
        let utf8 = value.utf8
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var index = 0
            for byte in utf8 {
                let lower = (index > localLength || localPartToo) && byte >= 0x41 && byte <= 0x5A
                buffer[index] = lower ? byte + 0x20 : byte
                index += 1
            }
            return index
        }
    }

    /// Runs `body` over the contiguous UTF-8 of `value`, copying only for bridged or foreign strings.
    static func withBytes<R>(of value: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = value.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(value.utf8).withUnsafeBufferPointer(body)
    }
}
