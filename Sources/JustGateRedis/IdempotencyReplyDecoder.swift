import JustGateCore

/// Reads the replies of the idempotency script (`RedisIdempotencyScript` in JustGateApp) and refuses any
/// that no honest Redis running that script could send.
///
/// Everything on the Redis link is untrusted input (see `QuotaReplyDecoder`). The claim reply is
/// `[1]` (first use: forward), `[2, stored answer]` (replay it), `[3]` (in flight: 409) or `[4]` (another
/// request used the key: 422); the completion reply is the integer 1 (kept) or 0 (the key was no longer
/// this gateway's). A refused reply is a backend error: the request gets the same 503 as a Redis that is
/// down, and the outage is logged once. Pure, so unit tests feed it hostile replies directly.
public enum IdempotencyReplyDecoder {
    /// Why a reply was refused, in words for the log (never the reply's text).
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case redisError(RedisErrorKind)
        case unexpectedShape
        case unknownTag(Int64)
        case badAnswer(IdempotentAnswerCodec.Rejection)

        public var description: String {
            switch self {
            case .redisError(let kind): "Redis answered the idempotency script with an error: \(kind)"
            case .unexpectedShape: "the idempotency script's reply does not have the shape the script returns"
            case .unknownTag(let tag): "the idempotency script's reply starts with \(tag), not 1 to 4"
            case .badAnswer(let why): "implausible reply from Redis: \(why)"
            }
        }
    }

    /// What the store says about a claimed key.
    public static func decodeClaim(_ reply: RESPValue) -> Result<IdempotencyTable.Claim, Rejection> {
        let items: [RESPValue]
        switch reply {
        case .array(let array?): items = array
        case .error(let text): return .failure(.redisError(RedisErrorKind(errorText: text)))
        default: return .failure(.unexpectedShape)
        }
        guard let first = items.first, case .integer(let tag) = first else { return .failure(.unexpectedShape) }
        switch (tag, items.count) {
        case (1, 1): return .success(.proceed)
        case (3, 1): return .success(.inProgress)
        case (4, 1): return .success(.mismatch)
        case (2, 2):
            guard case .bulk(let bytes?) = items[1] else { return .failure(.unexpectedShape) }
            return IdempotentAnswerCodec.decode(bytes).map(IdempotencyTable.Claim.replay).mapError(Rejection.badAnswer)
        case (1...4, _): return .failure(.unexpectedShape)
        default: return .failure(.unknownTag(tag))
        }
    }

    /// Whether the completion was kept (false: the key had expired or been claimed again meanwhile).
    public static func decodeCompletion(_ reply: RESPValue) -> Result<Bool, Rejection> {
        switch reply {
        case .integer(1): .success(true)
        case .integer(0): .success(false)
        case .integer(let other): .failure(.unknownTag(other))
        case .error(let text): .failure(.redisError(RedisErrorKind(errorText: text)))
        default: .failure(.unexpectedShape)
        }
    }
}
