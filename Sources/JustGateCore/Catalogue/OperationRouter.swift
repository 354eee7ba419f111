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
        /// The length in bytes of every path this route matches (slashes trimmed), when it has no parameter:
        /// most routes are told apart from the path by this one compare, before a segment is walked.
        var literalLength: Int?

        init(operationIndex: Int, segments: [Segment], methods: [String]) {
            self.operationIndex = operationIndex
            self.segments = segments
            self.methods = methods
            var length = max(segments.count - 1, 0)  // the slashes between segments
            for segment in segments {
                guard case .literal(let text) = segment else {
                    literalLength = nil
                    return
                }
                length += text.count
            }
            literalLength = length
        }
    }

    /// Literal segments are kept as UTF-8 bytes and compared as bytes: a path is a byte string
    /// (no Unicode equivalence), and this comparison runs for every route on every request.
    private enum Segment: Sendable, Equatable {
        case literal([UInt8])
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
    public func match(method: String, path: String) -> Match {
        var path = path
        return path.withUTF8 { match(method: method, pathBytes: $0) }
    }

    /// The same for a path held in a `Substring` (the request's own, when it has no escapes to decode): no
    /// `String` is made for it.
    public func match(method: String, path: Substring) -> Match {
        var path = path
        return path.withUTF8 { match(method: method, pathBytes: $0) }
    }

    private func match(method: String, pathBytes: UnsafeBufferPointer<UInt8>) -> Match {
        let trimmed = OperationRouter.trimSlashes(pathBytes)
        var allowed: [String] = []
        for route in routes {
            if let length = route.literalLength, length != trimmed.count { continue }
            guard let binding = OperationRouter.bind(route.segments, to: trimmed) else { continue }
            if route.methods.contains(method) {
                return .operation(index: route.operationIndex,
                                  pathParameter: binding.parameter.map { String(decoding: UnsafeBufferPointer(rebasing: pathBytes[$0]), as: UTF8.self) })
            }
            for candidate in route.methods where !allowed.contains(candidate) { allowed.append(candidate) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// A path that fits a template, with the byte range of its `{parameter}` segment if it has one.
    private struct Binding {
        var parameter: Range<Int>?
    }

    /// Walks the path segment by segment against the template without building an array.
    private static func bind(_ template: [Segment], to path: Slice<UnsafeBufferPointer<UInt8>>) -> Binding? {
        var position = path.startIndex
        var parameter: Range<Int>?
        for (index, segment) in template.enumerated() {
            var stop = position
            while stop < path.endIndex && path[stop] != UInt8(ascii: "/") { stop += 1 }
            switch segment {
            case .literal(let text):
                guard stop - position == text.count, path[position..<stop].elementsEqual(text) else { return nil }
            case .parameter:
                guard stop > position else { return nil }
                parameter = position..<stop
            }
            let isLast = index == template.count - 1
            if stop < path.endIndex {
                guard !isLast else { return nil }
                position = stop + 1
            } else if !isLast {
                return nil
            }
        }
        return Binding(parameter: parameter)
    }

    /// One leading and one trailing slash are optional: "/a/b/", "/a/b" and "a/b" are the same path.
    private static func trimSlashes(_ path: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var trimmed = path[...]
        if trimmed.first == UInt8(ascii: "/") { trimmed = trimmed.dropFirst() }
        if trimmed.last == UInt8(ascii: "/") { trimmed = trimmed.dropLast() }
        return trimmed
    }

    private static func segments(of template: String) -> [Segment] {
        var bytes = Array(template.utf8)[...]
        if bytes.first == UInt8(ascii: "/") { bytes = bytes.dropFirst() }
        if bytes.last == UInt8(ascii: "/") { bytes = bytes.dropLast() }
        return bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { part in
            part.first == UInt8(ascii: "{") && part.last == UInt8(ascii: "}") ? .parameter : .literal(Array(part))
        }
    }
}
