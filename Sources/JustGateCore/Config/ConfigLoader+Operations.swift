import Yams

/// The `operations:` section: overrides keyed by operation ids that the catalogue knows.
extension ConfigLoader {
    /// HTTP methods an operation may be sent upstream with.
    static let overridableMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    static func operationOverrides(
        _ node: Node?, known: Set<String>, reader: inout ConfigNodeReader
    ) -> [String: OperationOverride]? {
        guard let node else { return [:] }
        guard let section = reader.mapping(node, at: "operations", knownKeys: nil) else { return nil }
        var overrides: [String: OperationOverride] = [:]
        var isValid = true
        for entry in section.entries {
            let path = section.path(of: entry.key)
            guard known.contains(entry.key) else {
                reader.error(unknownOperationMessage(entry.key, known: known), at: "operations", line: entry.keyLine)
                isValid = false
                continue
            }
            if ConfigNodeReader.isNull(entry.value) {
                overrides[entry.key] = OperationOverride()
            } else if let override = operationOverride(entry.value, at: path, reader: &reader) {
                overrides[entry.key] = override
            } else {
                isValid = false
            }
        }
        return isValid ? overrides : nil
    }

    private static func operationOverride(
        _ node: Node, at path: String, reader: inout ConfigNodeReader
    ) -> OperationOverride? {
        guard let section = reader.mapping(node, at: path, knownKeys: ["method", "path", "timeout_ms"]) else { return nil }
        var override = OperationOverride()
        var isValid = true
        if let methodNode = section.value("method") {
            let methodPath = section.path(of: "method")
            if let method = reader.string(methodNode, at: methodPath) {
                if overridableMethods.contains(method) {
                    override.method = method
                } else {
                    let hint = overridableMethods.contains(method.uppercased()) ? "; write it in capitals" : ""
                    reader.error("""
                        '\(method)' is not one of: \(overridableMethods.joined(separator: ", "))\(hint)
                        """, at: methodPath, node: methodNode)
                    isValid = false
                }
            } else {
                isValid = false
            }
        }
        if let pathNode = section.value("path") {
            let pathPath = section.path(of: "path")
            if let upstreamPath = reader.string(pathNode, at: pathPath) {
                let isClean = upstreamPath.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
                if upstreamPath.hasPrefix("/") && isClean {
                    override.path = upstreamPath
                } else {
                    reader.error("""
                        '\(upstreamPath)' must start with / and contain no spaces or control characters, \
                        e.g. /api/user/v1/subscription/unsubscribe/email
                        """, at: pathPath, node: pathNode)
                    isValid = false
                }
            } else {
                isValid = false
            }
        }
        if let timeoutNode = section.value("timeout_ms") {
            if let timeout = reader.int(timeoutNode, at: section.path(of: "timeout_ms"), atLeast: 1) {
                override.timeoutMs = timeout
            } else {
                isValid = false
            }
        }
        return isValid ? override : nil
    }

    private static func unknownOperationMessage(_ id: String, known: Set<String>) -> String {
        var message = "unknown operation '\(id)'"
        if let suggestion = ConfigSpelling.closest(to: id, among: known.sorted()) {
            return message + "; did you mean '\(suggestion)'?"
        }
        let names = known.sorted()
        if names.isEmpty { return message + "; this build knows no operations" }
        message += "; known operations: " + names.prefix(12).joined(separator: ", ")
        if names.count > 12 { message += ", … (\(names.count) in all; `justgate operations` lists them)" }
        return message
    }
}
