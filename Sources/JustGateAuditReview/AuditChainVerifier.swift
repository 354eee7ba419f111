import JustGateCore

/// Checks an audit log line by line, in bounded memory, and names the first place where the chain breaks.
///
/// Feed it the files in order (`beginFile`) and their lines (`check`); it keeps only the last record's `seq`
/// and `hash` and at most one line of look-ahead (to tell two swapped lines from a deleted one). It is pure:
/// the CLI reads the files, tests feed it bytes.
public struct AuditChainVerifier {
    /// Why the chain is broken, as the first word of the report.
    public enum Kind: String, Sendable {
        /// The record's bytes do not give its hash.
        case edited
        /// The record was re-hashed with plain SHA-256 by someone without the HMAC key.
        case resigned = "re-signed without the key"
        /// One or more records before this one are gone.
        case deleted
        /// Records are out of order.
        case reordered
        /// The last line stops part-way.
        case truncated
        /// A whole rotated file is gone.
        case missingFile = "file missing"
        /// The line is not an audit record at all.
        case notARecord = "not an audit record"
        /// `prev` does not link to the record before.
        case brokenLink = "broken link"
        /// Not a break: the log is signed with the audit key and was checked without it, so nothing can be said.
        case keyNeeded = "key needed"
    }

    /// The first break found: where and why.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var kind: Kind
        public var detail: String
        public var description: String { "\(file):\(line): \(kind.rawValue): \(detail)" }
    }

    private let hasher: AuditHasher
    private var file = ""
    private var filesSeen = 0
    private var lastSeq: Int?
    private var lastHash = AuditChain.genesis
    /// A line that could not be read, forgiven only if the next line is the `chain_restart` that reports it.
    private var unreadable: (line: Int, problem: Problem)?
    /// A jump forward in `seq`, judged on the next line: swapped lines jump back, deleted ones do not.
    private var gap: (line: Int, expected: Int, found: Int)?

    /// Facts worth telling even when the chain is intact (a restart after a torn line, an older start).
    public private(set) var notices: [String] = []
    /// Records checked so far.
    public private(set) var records = 0
    /// How the log says its records are signed (its last `chain_start` or `chain_restart` that says so), `nil`
    /// until a record declares it.
    public private(set) var declaredSigning: AuditSigning?
    /// Whether records are checked with the audit key (HMAC-SHA-256) rather than as plain SHA-256.
    public var isKeyed: Bool { hasher.isKeyed }
    /// `seq` and `hash` of the last record checked, for operators who note them down as an outside anchor.
    public var last: (seq: Int, hash: String)? { lastSeq.map { ($0, lastHash) } }

    /// - Parameter hasher: keyed with the audit key when the log was written with one.
    public init(hasher: AuditHasher) {
        self.hasher = hasher
    }

    /// Starts the next file in order (rotated files oldest first, then the live one).
    public mutating func beginFile(_ name: String) throws(Problem) {
        // An unreadable last line stays pending: after a crash right after rotation, the restart record
        // that reports it is the first line of the next file.
        try settleGap()
        file = name
        filesSeen += 1
    }

    /// Checks one line (without its newline); `terminated` is false for bytes after the file's last newline.
    public mutating func check(_ bytes: ArraySlice<UInt8>, line: Int, terminated: Bool) throws(Problem) {
        if !terminated {
            throw Problem(file: file, line: line, kind: .truncated,
                          detail: "the last line stops part-way (a crash mid-write, or the file was cut); justgate reports and restarts the chain past it at its next start")
        }
        let record: AuditRecord
        do {
            record = try AuditRecordDecoding.decode(bytes)
        } catch {
            try settleUnreadable()
            unreadable = (line, Problem(file: file, line: line, kind: .notARecord, detail: error.message))
            return
        }
        if let pending = unreadable {
            unreadable = nil
            guard record.event == .chainRestart else { throw pending.problem }
            notices.append("\(pending.problem.file):\(pending.line): an unreadable (torn) line, reported by the chain_restart record that follows it")
        }
        // Only the chain's own records declare the signing; a reload's note (site ids, fingerprints) never does.
        if record.event == .chainStart || record.event == .chainRestart, let declared = AuditSigning.declared(in: record.note) {
            if declared == .hmacSHA256 && !hasher.isKeyed {
                throw Problem(file: file, line: line, kind: .keyNeeded, detail: """
                    its \(record.event.rawValue) record says the records are signed with HMAC-SHA-256 (audit.hmac_key); \
                    without that key they cannot be checked: pass it with --key-env or --key-file
                    """)
            }
            declaredSigning = declared
        }
        try checkHash(bytes, line: line)
        try checkOrder(record, line: line)
        records += 1
    }

    /// Call after the last line of the last file.
    public mutating func finish() throws(Problem) {
        try settleUnreadable()
        try settleGap()
    }

    // MARK: - Checks

    private mutating func settleGap() throws(Problem) {
        if let pending = gap {
            gap = nil
            throw deleted(pending)
        }
    }

    private mutating func settleUnreadable() throws(Problem) {
        if let pending = unreadable { throw pending.problem }
    }

    private func checkHash(_ bytes: ArraySlice<UInt8>, line: Int) throws(Problem) {
        guard let (canonical, claimed) = AuditRecordEncoding.split(line: bytes) else {
            throw Problem(file: file, line: line, kind: .notARecord, detail: "the line does not end with its hash")
        }
        guard hasher.hash(canonical) != claimed else { return }
        if hasher.isKeyed && AuditHasher.plainHash(canonical) == claimed {
            throw Problem(file: file, line: line, kind: .resigned,
                          detail: "its hash is a plain SHA-256, not the HMAC with the audit key: the record was changed and re-hashed by someone without the key")
        }
        if !hasher.isKeyed && records == 0 && declaredSigning == nil {
            // The first record checked and nothing said how the log is signed (its chain_start was rotated
            // away): an HMAC log looks exactly like this without its key, so this is not evidence of an edit.
            throw Problem(file: file, line: line, kind: .keyNeeded, detail: """
                the first record is not a plain SHA-256 hash and the log does not say how it is signed (its \
                chain_start was rotated away): it was written with audit.hmac_key, so pass the key with --key-env \
                or --key-file (or this record was edited, which only a check with the key can tell)
                """)
        }
        let hint = hasher.isKeyed
            ? "the record was changed after it was written, or the key given to verify is not the audit key"
            : "the record was changed after it was written (if the log was written with audit.hmac_key, pass the key with --key-env or --key-file)"
        throw Problem(file: file, line: line, kind: .edited, detail: "its hash does not match its content: \(hint)")
    }

    private mutating func checkOrder(_ record: AuditRecord, line: Int) throws(Problem) {
        defer {
            lastSeq = record.seq
            lastHash = record.hash
        }
        if let pending = gap {
            gap = nil
            if record.seq == pending.expected {
                throw Problem(file: file, line: pending.line, kind: .reordered,
                              detail: "seq \(pending.found) comes before seq \(record.seq) on the next line: the lines were swapped")
            }
            throw deleted(pending)
        }
        guard let lastSeq else {
            if record.seq == 1 && record.prev != AuditChain.genesis {
                throw Problem(file: file, line: line, kind: .brokenLink, detail: "the first record does not start from the genesis link")
            }
            if record.seq != 1 {
                notices.append("\(file):\(line): the log starts at seq \(record.seq); earlier records were rotated away, so the link before it cannot be checked")
            }
            return
        }
        let expected = lastSeq + 1
        if record.seq < expected {
            throw Problem(file: file, line: line, kind: .reordered, detail: "seq \(record.seq) comes after seq \(lastSeq)")
        }
        if record.seq > expected {
            if line == 1 && filesSeen > 1 {
                throw Problem(file: file, line: line, kind: .missingFile, detail: """
                    records seq \(expected)…\(record.seq - 1) are missing before this file: a rotated file is missing \
                    from the middle, or the previous file was cut short
                    """)
            }
            gap = (line, expected, record.seq)
            return
        }
        if record.prev != lastHash {
            throw Problem(file: file, line: line, kind: .brokenLink,
                          detail: "prev does not match the hash of the record before it (that record was replaced)")
        }
    }

    private func deleted(_ pending: (line: Int, expected: Int, found: Int)) -> Problem {
        let count = pending.found - pending.expected
        return Problem(file: file, line: pending.line, kind: .deleted,
                       detail: "\(count) record\(count == 1 ? "" : "s") (seq \(pending.expected)…\(pending.found - 1)) before this line \(count == 1 ? "was" : "were") deleted")
    }
}
