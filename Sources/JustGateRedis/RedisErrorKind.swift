/// What an error reply from Redis says about the deployment, classified by its code only (its first word, or
/// the code of an error a script raised): the limiter's and idempotency's reasons carry this and never the
/// reply's text (a Redis the gateway does not control could put anything there), and the code is enough to
/// tell an operator what to change. The cases are the ones a gateway in
/// production meets: a primary demoted by a failover while `redis_url` still names it, a Redis Cluster node,
/// a full Redis, an ACL without the commands justgate sends, a script that runs too long.
public enum RedisErrorKind: Sendable, Equatable, CustomStringConvertible {
    /// `READONLY`: the server is a replica (often a primary demoted by a failover).
    case readOnlyReplica
    /// `MOVED`, `ASK`, `CROSSSLOT`, `CLUSTERDOWN`: the server is a Redis Cluster node.
    case cluster
    /// `OOM`: `maxmemory` is reached and the policy refuses writes.
    case outOfMemory
    /// `NOPERM`, `NOAUTH`, `WRONGPASS`: the user may not run what justgate sends, or is not logged in.
    case notPermitted
    /// `BUSY`, `LOADING`, `MASTERDOWN`, `TRYAGAIN`: the server cannot answer now.
    case busy
    /// Any other code (`ERR`, `WRONGTYPE`, ...).
    case other

    public init(errorText: String) {
        var code = errorText.prefix { $0 != " " }
        // Redis 6 wraps an error raised inside a script: `ERR Error running script (...): @user_script:1: -OOM ...`.
        if code == "ERR", let wrapped = errorText.range(of: ": -") {
            code = errorText[wrapped.upperBound...].prefix { $0 != " " }
        }
        switch code {
        case "READONLY": self = .readOnlyReplica
        case "MOVED", "ASK", "CROSSSLOT", "CLUSTERDOWN": self = .cluster
        case "OOM": self = .outOfMemory
        case "NOPERM", "NOAUTH", "WRONGPASS": self = .notPermitted
        case "BUSY", "LOADING", "MASTERDOWN", "TRYAGAIN": self = .busy
        default: self = .other
        }
    }

    /// What the error means and what to do about it, for the log line that reports it.
    public var description: String {
        switch self {
        case .readOnlyReplica:
            "it is a read-only replica: point redis_url at the primary (after a failover, at the new one)"
        case .cluster:
            "it is a Redis Cluster node, which justgate does not support: use a standalone Redis (a primary, with replicas behind one address if you need failover)"
        case .outOfMemory:
            "it is out of memory: raise maxmemory (with maxmemory-policy noeviction)"
        case .notPermitted:
            "its ACL refuses justgate's user: allow EVAL, EVALSHA, SCRIPT and the data commands on justgate's keys (README, Redis)"
        case .busy:
            "it cannot answer now (busy, loading its data, or its primary is down); justgate keeps trying"
        case .other:
            "see Redis's own log for the cause"
        }
    }
}
