import Yams

extension ConfigLoader {
    /// `{ env: NAME }` or `{ file: PATH }` for a secret that must not be written in the config itself (the
    /// audit key, the rate-limit key secret, Vault credentials): a secret in the config is in every copy and
    /// backup of it. Exactly one of the two; a file path may start with `${CREDENTIALS_DIRECTORY}` and names
    /// no other variable (`TokenFilePath`).
    static func fileOrEnvSecret(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> SecretSource? {
        guard let section = reader.mapping(node, at: path, knownKeys: ["env", "file"]) else { return nil }
        let present = section.entries.map(\.key)
        // Keys that were all unknown have been reported already.
        if present.isEmpty, case .mapping(let raw) = node, raw.count > 0 { return nil }
        guard present.count == 1, let key = present.first, let valueNode = section.value(key),
              let text = reader.string(valueNode, at: section.path(of: key)), !text.isEmpty
        else {
            reader.error("write exactly one of { env: NAME } or { file: PATH }", at: path, node: node)
            return nil
        }
        if key == "file" && !TokenFilePath.isWellFormed(text) {
            reader.error("only a leading ${CREDENTIALS_DIRECTORY} is expanded; write the rest of the path in full",
                         at: section.path(of: key), node: valueNode)
            return nil
        }
        return key == "env" ? .env(text) : .file(text)
    }
}
