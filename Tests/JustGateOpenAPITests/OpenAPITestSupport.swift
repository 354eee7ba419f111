import Foundation
import Yams
@testable import JustGateCore
@testable import JustGateOpenAPI

/// The generated document read back with a real YAML parser, so the tests check what a client's
/// tooling would see rather than the generator's own tree.
struct ParsedOpenAPI {
    let root: [String: Any]

    /// One operation object with where it sits in `paths`.
    struct Operation {
        var path: String
        var method: String
        var object: [String: Any]

        var operationID: String? { object["operationId"] as? String }
        var aliasOf: String? { object["x-justgate-alias-of"] as? String }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `text`; every mapping must have string keys, as OpenAPI requires (status codes included).
    init(_ text: String) throws {
        guard let loaded = try Yams.load(yaml: text) else { throw Failure(description: "the document is empty") }
        guard let root = ParsedOpenAPI.stringKeyed(loaded) as? [String: Any] else {
            throw Failure(description: "the document is not a mapping with string keys")
        }
        self.root = root
    }

    /// Converts Yams' `[AnyHashable: Any]` mappings to `[String: Any]`, refusing any non-string key.
    private static func stringKeyed(_ value: Any) -> Any? {
        if let mapping = value as? [AnyHashable: Any] {
            var out: [String: Any] = [:]
            for (key, inner) in mapping {
                guard let key = key.base as? String, let converted = stringKeyed(inner) else { return nil }
                out[key] = converted
            }
            return out
        }
        if let sequence = value as? [Any] {
            var out: [Any] = []
            for inner in sequence {
                guard let converted = stringKeyed(inner) else { return nil }
                out.append(converted)
            }
            return out
        }
        return value
    }

    var paths: [String: Any] { root["paths"] as? [String: Any] ?? [:] }

    /// Every operation of every path item.
    var operations: [Operation] {
        paths.flatMap { path, item -> [Operation] in
            let methods = item as? [String: Any] ?? [:]
            return methods.compactMap { method, object in
                (object as? [String: Any]).map { Operation(path: path, method: method.uppercased(), object: $0) }
            }
        }
    }

    /// Follows a local `$ref` (`#/components/...`), or nil if it does not resolve.
    func resolve(_ reference: String) -> [String: Any]? {
        guard reference.hasPrefix("#/") else { return nil }
        var current: Any = root
        for token in reference.dropFirst(2).split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let mapping = current as? [String: Any], let next = mapping[key] else { return nil }
            current = next
        }
        return current as? [String: Any]
    }

    /// `object` itself, or what its `$ref` points at.
    func dereferenced(_ object: [String: Any]) -> [String: Any]? {
        guard let reference = object["$ref"] as? String else { return object }
        return resolve(reference)
    }

    /// Every `$ref` value anywhere in the document.
    var references: [String] {
        var found: [String] = []
        func walk(_ value: Any) {
            if let mapping = value as? [String: Any] {
                if let reference = mapping["$ref"] as? String { found.append(reference) }
                mapping.values.forEach(walk)
            } else if let sequence = value as? [Any] {
                sequence.forEach(walk)
            }
        }
        walk(root)
        return found
    }
}

/// The document the tests examine: the standard catalogue at the version the CLI passes.
let generatedOpenAPI = OpenAPIDocument.yaml(version: "0.1.0")

/// Where the checked-in copy lives: `<package>/docs/openapi.yaml`, found from this file's path.
func checkedInOpenAPIURL(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // JustGateCoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("docs/openapi.yaml")
}
