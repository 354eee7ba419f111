/// How a log's records are hashed, as the log itself declares it in the note of its `chain_start` (and, since
/// this version, its `chain_restart`) records: "records are signed with HMAC-SHA-256 …" or "… plain SHA-256 …".
///
/// Why the log declares it: without the key, `audit verify` cannot tell an HMAC record from an edited one, and
/// used to call an intact HMAC log `BROKEN … edited`. With the declaration it says the key is needed instead
/// (exit 2). The declaration is inside the hashed bytes, so it cannot be changed without the record's hash
/// changing; but someone who rewrites the whole log as a plain SHA-256 chain also rewrites the declaration, and
/// only a check with the key catches that (every plain record is then "re-signed without the key").
///
/// The sentences are the ones every log written so far carries, so older logs declare it too.
public enum AuditSigning: Sendable, Equatable {
    /// HMAC-SHA-256 with `audit.hmac_key`: only a holder of the key can write a record that verifies.
    case hmacSHA256
    /// Plain SHA-256: catches accidents, not a rewrite.
    case plainSHA256

    /// The signing of a writer with (`keyed`) or without a key.
    public init(keyed: Bool) {
        self = keyed ? .hmacSHA256 : .plainSHA256
    }

    /// The sentence a chain record's note carries, which `declared(in:)` reads back.
    public var declaration: String {
        switch self {
        case .hmacSHA256: "records are signed with \(AuditSigning.hmacMarker) with audit.hmac_key"
        case .plainSHA256: "records are signed with \(AuditSigning.plainMarker) (no audit.hmac_key configured)"
        }
    }

    /// The signing a chain record's note declares, `nil` when it declares none (a request record, or a
    /// `chain_restart` written before restarts declared it).
    public static func declared(in note: String?) -> AuditSigning? {
        guard let note else { return nil }
        if note.contains("signed with " + hmacMarker) { return .hmacSHA256 }
        if note.contains("signed with " + plainMarker) { return .plainSHA256 }
        return nil
    }

    private static let hmacMarker = "HMAC-SHA-256"
    private static let plainMarker = "plain SHA-256"
}
