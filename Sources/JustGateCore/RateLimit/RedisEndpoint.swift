/// Where the Redis limiter connects, parsed from `rate_limit.redis_url`:
/// `redis://[[user]:password@]host[:port][/db]` or `unix:///path/to/redis.sock[?db=N]`.
///
/// The password is a `Secret`, so the endpoint can be logged and printed without it.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Location: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var location: Location
    public var username: String?
    public var password: Secret?
    public var database: Int

    public init(location: Location, username: String? = nil, password: Secret? = nil, database: Int = 0) {
        self.location = location
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses the URL, or says what is wrong with it in words an operator can act on.
    public static func parse(_ text: String) -> Result<RedisEndpoint, RedisEndpointError> {
        if text.hasPrefix("unix://") { return parseUnix(String(text.dropFirst("unix://".count))) }
        guard text.hasPrefix("redis://") else {
            return .failure(RedisEndpointError("'\(ProblemText.excerpt(text))' is not a Redis URL; write redis://host:port/db or unix:///path/to/redis.sock"))
        }
        var rest = Substring(text.dropFirst("redis://".count))
        var username: String?
        var password: Secret?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user)
                password = Secret(String(credentials[credentials.index(after: colon)...]))
            } else {
                password = Secret(String(credentials))
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let number = Int(db), (0...15_999).contains(number) else {
                    return .failure(RedisEndpointError("the database after '/' must be a number such as 0"))
                }
                database = number
            }
        }
        var host = String(rest)
        var port = 6379
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return .failure(RedisEndpointError("an IPv6 host needs its closing ']'")) }
            let after = host[host.index(after: close)...]
            let inner = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let number = Int(after.dropFirst()), (1...65_535).contains(number) else {
                    return .failure(RedisEndpointError("the port must be a number from 1 to 65535"))
                }
                port = number
            } else if !after.isEmpty {
                return .failure(RedisEndpointError("unexpected text after the IPv6 host"))
            }
            host = inner
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]), (1...65_535).contains(number) else {
                return .failure(RedisEndpointError("the port must be a number from 1 to 65535"))
            }
            port = number
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { return .failure(RedisEndpointError("the URL names no host; write redis://127.0.0.1:6379/0")) }
        return .success(RedisEndpoint(location: .tcp(host: host, port: port), username: username, password: password,
                                      database: database))
    }

    private static func parseUnix(_ rest: String) -> Result<RedisEndpoint, RedisEndpointError> {
        var path = Substring(rest)
        var database = 0
        if let question = path.firstIndex(of: "?") {
            let query = path[path.index(after: question)...]
            path = path[..<question]
            guard query.hasPrefix("db="), let number = Int(query.dropFirst(3)), (0...15_999).contains(number) else {
                return .failure(RedisEndpointError("the only query a unix:// URL takes is ?db=N"))
            }
            database = number
        }
        guard path.hasPrefix("/") else {
            return .failure(RedisEndpointError("a unix:// URL needs an absolute socket path, e.g. unix:///run/redis/redis.sock"))
        }
        return .success(RedisEndpoint(location: .unix(path: String(path)), database: database))
    }

    /// The URL without its password.
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):<redacted>@"
        switch location {
        case .tcp(let host, let port):
            let shown = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(shown):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }
}

public struct RedisEndpointError: Error, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}
