/// What of a request may appear in the audit log. It is a list of what *is* written, not of what is hidden:
/// a field that is not named here never reaches the log, whatever a site sends or however it names it.
public struct AuditAllowlist: Sendable {
    /// Where an allowed field goes in the record.
    public enum Slot: Sendable {
        case juid, email, phone, ip
    }

    /// Longest field name written in `errors`; longer names are written as `null`.
    public static let maxFieldNameLength = 40

    private let knownFieldNames: Set<String>

    /// The field names the catalogue defines, so error entries name only fields justgate knows.
    public init(catalogue: Catalogue) {
        var names = Set<String>()
        for operation in catalogue.operations {
            operation.fields.forEach { names.insert($0.name) }
            if let parameter = operation.pathParameter { names.insert(parameter.name) }
        }
        knownFieldNames = names
    }

    /// The allowed personal values of a validated request as they are, for the audit writer to mask
    /// (`AuditPersonalFields.masked`); nothing that is not on the list.
    public func personalValues(of validated: ValidatedRequest) -> AuditPersonalFields {
        var personal = AuditPersonalFields()
        for field in validated.fields {
            guard let slot = AuditAllowlist.slot(of: field.name) else { continue }
            switch slot {
            case .juid: personal.juid = field.value
            case .email: personal.email = field.value
            case .phone: personal.phone = field.value
            case .ip: personal.ip = field.value
            }
        }
        return personal
    }

    /// The personal fields kept (masked), by the name the catalogue gives them; `name` is never kept. A switch
    /// rather than a dictionary: it is asked for every field of every request, and comparing short names is
    /// cheaper than hashing them.
    public static func slot(of name: String) -> Slot? {
        switch name {
        case "juid": .juid
        case "email": .email
        case "number": .phone
        case "ip": .ip
        default: nil
        }
    }

    /// The field name to write for a problem: a known field (`email`, or a part of one such as `data.email`
    /// or `tags[2]`), else `nil`, because an unknown name is whatever the site typed, a token included.
    public func fieldName(_ name: String) -> String? {
        guard name.utf8.count <= AuditAllowlist.maxFieldNameLength else { return nil }
        let head = name.prefix { $0 != "." && $0 != "[" }
        guard knownFieldNames.contains(String(head)) else { return nil }
        let rest = name.utf8.dropFirst(head.utf8.count)
        let safe = rest.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                || byte == 0x2E || byte == 0x5B || byte == 0x5D || byte == 0x5F
        }
        return safe && rest.count <= 16 ? name : nil
    }

    /// Field problems as the log keeps them: allowed names and codes.
    public func errors(_ problems: [FieldProblem]) -> [AuditFieldError] {
        problems.map { AuditFieldError(field: fieldName($0.field), code: $0.code) }
    }
}

/// The personal values a record may hold: what `AuditAllowlist` let through, as validated or masked.
public struct AuditPersonalFields: Sendable, Equatable {
    public var juid: String?
    public var email: String?
    public var phone: String?
    public var ip: String?

    /// Nothing known.
    public init() {}

    /// These values as the log keeps them (`AuditMasking`); `juid` is kept whole.
    public var masked: AuditPersonalFields {
        var masked = self
        masked.email = email.map(AuditMasking.email)
        masked.phone = phone.map(AuditMasking.phone)
        masked.ip = ip.flatMap(AuditMasking.ip)
        return masked
    }
}

extension AuditRecord {
    /// Copies masked personal values in.
    public mutating func apply(_ personal: AuditPersonalFields) {
        juid = personal.juid
        email = personal.email
        phone = personal.phone
        ip = personal.ip
    }
}
