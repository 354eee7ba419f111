/// Finds the operation a site's method and path mean.
///
/// Trailing slashes are optional (`/api/user/v1/action` and `/api/user/v1/action/` are the same
/// call), `{name}` matches exactly one segment, and a path that matches but with a method the
/// operation does not take is reported separately so the site gets 405 with `Allow`.
public struct OperationRouter: Sendable {
    public enum Match: Sendable, Equatable {
        case operation(index: Int, pathParameter: String?)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private struct Route: Sendable {
        var operationIndex: Int
        var segments: [Segment]
        var methods: [String]
    }

    private enum Segment: Sendable, Equatable {
        case literal(Substring)
        case parameter
    }

    private let routes: [Route]

    public init(catalogue: Catalogue) {
        var routes: [Route] = []
        for (index, operation) in catalogue.operations.enumerated() {
            for template in [operation.path] + operation.aliasPaths {
                routes.append(Route(operationIndex: index, segments: OperationRouter.segments(of: template),
                                    methods: operation.acceptedMethods))
            }
        }
        self.routes = routes
    }

    /// `path` is the percent-decoded path without the query.
    public func match(method: String, path: some StringProtocol) -> Match {
        let trimmed = OperationRouter.trimSlashes(Substring(path))
        var allowed: [String] = []
        for route in routes {
            guard let binding = OperationRouter.bind(route.segments, to: trimmed) else { continue }
            if route.methods.contains(method) {
                return .operation(index: route.operationIndex, pathParameter: binding.parameter)
            }
            for candidate in route.methods where !allowed.contains(candidate) { allowed.append(candidate) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// A path that fits a template, with the value of its `{parameter}` segment if it has one.
    private struct Binding {
        var parameter: String?
    }

    /// Walks the path segment by segment against the template without building an array: this runs
    /// for every route on every request.
    private static func bind(_ template: [Segment], to path: Substring) -> Binding? {
        var rest = path
        var parameter: String?
        for (position, segment) in template.enumerated() {
            let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/"))
            let part = rest[..<(slash ?? rest.endIndex)]
            switch segment {
            case .literal(let text):
                guard text == part else { return nil }
            case .parameter:
                guard !part.isEmpty else { return nil }
                parameter = String(part)
            }
            let isLast = position == template.count - 1
            if let slash {
                guard !isLast else { return nil }
                rest = rest[rest.utf8.index(after: slash)...]
            } else if !isLast {
                return nil
            }
        }
        return Binding(parameter: parameter)
    }

    /// One leading and one trailing slash are optional: "/a/b/", "/a/b" and "a/b" are the same path.
    private static func trimSlashes(_ path: Substring) -> Substring {
        // Index arithmetic on UTF-8, not Characters: "/" followed by a combining mark is one Character.
        var trimmed = path
        if trimmed.utf8.first == UInt8(ascii: "/") { trimmed = trimmed[trimmed.utf8.index(after: trimmed.startIndex)...] }
        if trimmed.utf8.last == UInt8(ascii: "/") { trimmed = trimmed[..<trimmed.utf8.index(before: trimmed.endIndex)] }
        return trimmed
    }

    private static func segments(of template: String) -> [Segment] {
        trimSlashes(Substring(template)).split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter : .literal(part)
        }
    }
}
