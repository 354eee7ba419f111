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
        let parts = OperationRouter.split(path)
        var allowed: [String] = []
        for route in routes {
            guard let binding = OperationRouter.bind(route.segments, to: parts) else { continue }
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

    /// Returns nil when the path does not fit the template.
    private static func bind(_ template: [Segment], to parts: [Substring]) -> Binding? {
        guard template.count == parts.count else { return nil }
        var parameter: String?
        for (segment, part) in zip(template, parts) {
            switch segment {
            case .literal(let text):
                guard text == part else { return nil }
            case .parameter:
                guard !part.isEmpty else { return nil }
                parameter = String(part)
            }
        }
        return Binding(parameter: parameter)
    }

    private static func segments(of template: String) -> [Segment] {
        split(template).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter : .literal(part)
        }
    }

    private static func split(_ path: some StringProtocol) -> [Substring] {
        var parts = Substring(path).split(separator: "/", omittingEmptySubsequences: false)
        // A leading "/" gives an empty first part; a trailing "/" an empty last one. Both are optional.
        if parts.first == "" { parts.removeFirst() }
        if parts.count > 0 && parts.last == "" { parts.removeLast() }
        return parts
    }
}
