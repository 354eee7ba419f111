/// Reads one audit line back into an `AuditRecord`, strictly: a line with a missing, extra or misplaced key is
/// not an audit record, whatever else it is, so `verify` and `query` say so instead of guessing. Lines of the
/// format before `key` and `reason` (`AuditRecord.keysWithoutKeyAndReason`) are read too, so logs written by an
/// older justgate still verify and query after an upgrade.
public enum AuditRecordDecoding {
    /// Why a line is not an audit record, phrased to follow "file:line: ".
    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    /// Parses `line` (without its newline).
    public static func decode(_ line: ArraySlice<UInt8>) throws(Failure) -> AuditRecord {
        if let record = AuditLineScanner.scan(line) { return record }
        return try general(line)
    }

    /// The strict general path: any valid JSON spelling of a record, and a reason for anything else.
    static func general(_ line: ArraySlice<UInt8>) throws(Failure) -> AuditRecord {
        let parsed = line.withUnsafeBytes { bytes in
            Result { () throws(JSONParseError) -> JSONValue in try JSONParser.parse(bytes, maxDepth: 4) }
        }
        let value: JSONValue
        switch parsed {
        case .success(let json): value = json
        case .failure(let error): throw Failure(message: "not JSON (\(error.message) at byte \(error.offset + 1))")
        }
        guard case .object(let members) = value else { throw Failure(message: "not an audit record (not a JSON object)") }
        let current = members.count == AuditRecord.keys.count
            && zip(members, AuditRecord.keys).allSatisfy({ $0.key == $1 })
        let older = members.count == AuditRecord.keysWithoutKeyAndReason.count
            && zip(members, AuditRecord.keysWithoutKeyAndReason).allSatisfy({ $0.key == $1 })
        guard current || older else {
            let found = members.prefix(4).map(\.key).joined(separator: ",")
            throw Failure(message: "not an audit record (expected the keys time,seq,event,…,hash in order; found \(found)…)")
        }
        // Positions after `site` move by one in a current line (`key`), after `outcome` by two (`reason`).
        let reader = Reader(members: members)
        let afterSite = current ? 1 : 0
        let afterOutcome = current ? 2 : 0
        var record = AuditRecord(time: try reader.requiredText(0))
        record.seq = try reader.integer(1) ?? 0
        guard let event = AuditRecord.Event(rawValue: try reader.requiredText(2)) else {
            throw Failure(message: "not an audit record (unknown event)")
        }
        record.event = event
        record.requestID = try reader.text(3)
        record.site = try reader.text(4)
        if current { record.key = try reader.text(5) }
        record.operation = try reader.text(5 + afterSite)
        record.method = try reader.text(6 + afterSite)
        record.path = try reader.text(7 + afterSite)
        record.client = try reader.text(8 + afterSite)
        record.outcome = try reader.text(9 + afterSite)
        if current { record.reason = try reader.text(11) }
        let at = afterOutcome
        record.status = try reader.integer(10 + at)
        record.upstreamStatus = try reader.integer(11 + at)
        record.durationMicros = try reader.micros(12 + at)
        record.upstreamMicros = try reader.micros(13 + at)
        record.attempts = try reader.integer(14 + at)
        record.errors = try reader.errors(15 + at)
        record.policy = try reader.text(16 + at)
        record.traceID = try reader.text(17 + at)
        record.juid = try reader.text(18 + at)
        record.email = try reader.text(19 + at)
        record.phone = try reader.text(20 + at)
        record.ip = try reader.text(21 + at)
        record.note = try reader.text(22 + at)
        record.prev = try reader.requiredText(23 + at)
        record.hash = try reader.requiredText(24 + at)
        return record
    }

    /// Typed access to the members by position, with errors that name the key.
    private struct Reader {
        var members: [JSONMember]

        func wrong(_ index: Int, _ expected: String) -> Failure {
            Failure(message: "not an audit record (\(members[index].key) is not \(expected))")
        }

        func text(_ index: Int) throws(Failure) -> String? {
            switch members[index].value {
            case .null: return nil
            case .string(let value): return value
            default: throw wrong(index, "a string or null")
            }
        }

        func requiredText(_ index: Int) throws(Failure) -> String {
            guard let value = try text(index) else { throw wrong(index, "a string") }
            return value
        }

        func integer(_ index: Int) throws(Failure) -> Int? {
            switch members[index].value {
            case .null: return nil
            case .number(let literal):
                guard let value = Int(literal) else { throw wrong(index, "a whole number") }
                return value
            default: throw wrong(index, "a number or null")
            }
        }

        /// `12.034` (milliseconds, three decimals) as 12034 microseconds.
        func micros(_ index: Int) throws(Failure) -> Int? {
            switch members[index].value {
            case .null: return nil
            case .number(let literal):
                let parts = literal.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count <= 2, let whole = Int(parts[0]) else { throw wrong(index, "milliseconds") }
                var fraction = 0
                if parts.count == 2 {
                    let digits = parts[1].prefix(3)
                    guard let value = Int(digits) else { throw wrong(index, "milliseconds") }
                    fraction = value * [100, 10, 1][digits.count - 1]
                }
                return whole * 1000 + (literal.hasPrefix("-") ? -fraction : fraction)
            default: throw wrong(index, "a number or null")
            }
        }

        func errors(_ index: Int) throws(Failure) -> [AuditFieldError] {
            guard case .array(let items) = members[index].value else { throw wrong(index, "a list") }
            var result: [AuditFieldError] = []
            for item in items {
                guard case .object(let pair) = item, pair.count == 2, pair[0].key == "field", pair[1].key == "code",
                      case .string(let code) = pair[1].value
                else { throw wrong(index, "a list of {field, code}") }
                switch pair[0].value {
                case .null: result.append(AuditFieldError(field: nil, code: code))
                case .string(let field): result.append(AuditFieldError(field: field, code: code))
                default: throw wrong(index, "a list of {field, code}")
                }
            }
            return result
        }
    }
}
