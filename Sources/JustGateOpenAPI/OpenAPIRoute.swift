import JustGateCore

/// One method on one path that sites may call: the unit an OpenAPI operation describes.
///
/// The catalogue holds an operation once, with the extra methods and paths sites also use; OpenAPI
/// needs one entry per path and method, each with a unique `operationId`. The canonical pair keeps the
/// catalogue id (`segments.get`), so clients generated from the document name calls the way config,
/// logs and metrics do; the other pairs are aliases of it.
struct OpenAPIRoute {
    var path: String
    /// The method as sites send it, uppercase (`POST`).
    var method: String
    var operation: OperationSpec
    /// `<id>`, then `.alias<N>` for the N-th alias path, then `.<method>` for a non-canonical method.
    var operationID: String
    /// The id of the canonical operation when this pair is an alias, else nil.
    var aliasOf: String?

    /// Methods a 3.1 path item has a slot for, in the order the slots are written.
    static let pathItemMethods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]

    /// Whether the site sends this route's fields in the query string (GET, DELETE, HEAD) rather than a body.
    var takesQuery: Bool { method == "GET" || method == "DELETE" || method == "HEAD" }

    /// Every route of the catalogue, in catalogue order: the canonical path then its aliases, each with
    /// the forwarding method first. A path and method already taken by an earlier operation is left out,
    /// because the router answers it with that earlier operation; so is a method OpenAPI 3.1 has no slot for.
    static func routes(of catalogue: Catalogue) -> [OpenAPIRoute] {
        var routes: [OpenAPIRoute] = []
        var taken: Set<String> = []
        for operation in catalogue.operations {
            for (pathIndex, path) in ([operation.path] + operation.aliasPaths).enumerated() {
                for method in operation.acceptedMethods where pathItemMethods.contains(method) {
                    let key = "\(method) \(routeKey(path))"
                    guard !taken.contains(key) else { continue }
                    taken.insert(key)
                    var id = operation.id
                    if pathIndex > 0 { id += ".alias\(pathIndex)" }
                    if method != operation.method { id += "." + method.lowercased() }
                    let canonical = pathIndex == 0 && method == operation.method
                    routes.append(OpenAPIRoute(path: path, method: method, operation: operation, operationID: id,
                                               aliasOf: canonical ? nil : operation.id))
                }
            }
        }
        return routes
    }

    /// The path as the router compares it: trailing slash dropped, every `{parameter}` alike.
    private static func routeKey(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? "{}" : String(segment)
        }
        if segments.count > 1 && segments.last == "" { segments.removeLast() }
        return segments.joined(separator: "/")
    }

    /// Paths in first-seen order, each with its routes in ``pathItemMethods`` order.
    static func grouped(_ routes: [OpenAPIRoute]) -> [(path: String, routes: [OpenAPIRoute])] {
        var order: [String] = []
        var byPath: [String: [OpenAPIRoute]] = [:]
        for route in routes {
            if byPath[route.path] == nil { order.append(route.path) }
            byPath[route.path, default: []].append(route)
        }
        return order.map { path in
            let routes = byPath[path] ?? []
            let sorted = pathItemMethods.flatMap { method in routes.filter { $0.method == method } }
            return (path: path, routes: sorted)
        }
    }

    /// The `components/schemas` name of an operation's fields: the id in UpperCamelCase plus `Request`
    /// (`stat.count_by_refid` → `StatCountByRefidRequest`).
    static func requestSchemaName(_ operation: OperationSpec) -> String {
        operation.id.split(whereSeparator: { $0 == "." || $0 == "_" || $0 == "-" })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined() + "Request"
    }

    /// The tag grouping an operation: its id up to the first dot (`subscribe.sms` → `subscribe`).
    static func tag(_ operation: OperationSpec) -> String {
        String(operation.id.prefix { $0 != "." })
    }
}
