import Yams

/// The `audit:` section: where the audit log goes, how it is signed, rotated and flushed.
extension ConfigLoader {
    static let auditKeys = ["path", "enabled", "hmac_key", "rotate_bytes", "keep_files", "fsync", "required"]

    static func auditConfig(_ node: Node?, reader: inout ConfigNodeReader) -> AuditConfig? {
        var audit = AuditConfig()
        guard let node else { return audit }
        guard let section = reader.mapping(node, at: "audit", knownKeys: auditKeys) else { return nil }
        var isValid = true
        if let pathNode = section.value("path") {
            switch reader.string(pathNode, at: "audit.path") {
            case .some(let path) where !path.isEmpty:
                audit.path = path
            case .some:
                reader.error("must not be empty; remove it to use var/audit/audit.jsonl", at: "audit.path", node: pathNode)
                isValid = false
            case .none:
                isValid = false
            }
        }
        if let keyNode = section.value("hmac_key") {
            if let source = fileOrEnvSecret(keyNode, at: "audit.hmac_key", reader: &reader) { audit.hmacKey = source } else { isValid = false }
        }
        if let value = reader.bool(in: section, "enabled", default: audit.enabled) { audit.enabled = value } else { isValid = false }
        if let value = reader.bool(in: section, "required", default: audit.required) { audit.required = value } else { isValid = false }
        if let value = reader.int(in: section, "rotate_bytes", default: audit.rotateBytes, atLeast: 4096) {
            audit.rotateBytes = value
        } else {
            isValid = false
        }
        if let value = reader.int(in: section, "keep_files", default: audit.keepFiles, atLeast: 0) {
            audit.keepFiles = value
        } else {
            isValid = false
        }
        if let fsyncNode = section.value("fsync") {
            if let policy = reader.choice(fsyncNode, at: "audit.fsync", as: AuditFsyncPolicy.self) {
                audit.fsync = policy
            } else {
                isValid = false
            }
        }
        return isValid ? audit : nil
    }

}
