import JustGateCore

/// How an `IdempotentAnswer` is kept in Redis: one bulk string,
/// `JGI1 <status> <redacted 0|1> <content-type length>\n<content type><body>`.
///
/// What comes back is untrusted (see `QuotaReplyDecoder`): a Redis that is compromised, misconfigured or
/// impersonated could hand a gateway any bytes to replay to a site. So `decode` accepts only what `encode`
/// can write: a status from 200 to 499 (only answers below 500 are remembered, see `IdempotencyGate`), a
/// content type of at most `maxContentTypeBytes` visible ASCII or spaces (never CR or LF: it becomes a
/// response header), and a body of at most `maxBodyBytes`. The bound also caps what one key costs Redis:
/// a `profile.create` answer is a few dozen bytes, and an answer too large to keep is not kept.
public enum IdempotentAnswerCodec {
    /// The largest body kept; a larger answer is relayed but not remembered.
    public static let maxBodyBytes = 64 * 1024
    /// The longest `Content-Type` kept.
    public static let maxContentTypeBytes = 256
    static let magic = Array("JGI1 ".utf8)

    /// Why stored bytes were refused, in words for the log (never the bytes themselves).
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformedHeader
        case implausibleStatus
        case badContentType
        case bodyTooLarge(Int)

        public var description: String {
            switch self {
            case .malformedHeader: "the stored answer's header is not the gateway's format"
            case .implausibleStatus: "the stored answer's status is not from 200 to 499"
            case .badContentType: "the stored answer's content type is too long or not visible ASCII"
            case .bodyTooLarge(let size): "the stored answer's body is \(size) bytes, more than \(maxBodyBytes)"
            }
        }
    }

    /// The bytes to store, or nil when the answer cannot be kept (too large, or a status or content type
    /// `decode` would refuse).
    public static func encode(_ answer: IdempotentAnswer) -> [UInt8]? {
        let contentType = Array((answer.contentType ?? "").utf8)
        guard (200...499).contains(answer.status), answer.body.count <= maxBodyBytes,
              isAcceptable(contentType: contentType[...]) else { return nil }
        var out = magic
        out.append(contentsOf: "\(answer.status) \(answer.upstreamTokenRedacted ? 1 : 0) \(answer.contentType == nil ? -1 : contentType.count)\n".utf8)
        out.append(contentsOf: contentType)
        out.append(contentsOf: answer.body)
        return out
    }

    /// The answer in `bytes`, checked.
    public static func decode(_ bytes: [UInt8]) -> Result<IdempotentAnswer, Rejection> {
        guard bytes.count > magic.count, bytes.starts(with: magic),
              let newline = bytes[magic.count...].firstIndex(of: 0x0A),
              newline - magic.count <= 16 else { return .failure(.malformedHeader) }
        let fields = bytes[magic.count..<newline].split(separator: 0x20, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 3, let status = decimal(fields[0]),
              fields[1].count == 1, let redacted = decimal(fields[1]), redacted <= 1,
              let contentTypeLength = fields[2].elementsEqual("-1".utf8) ? -1 : decimal(fields[2])
        else { return .failure(.malformedHeader) }
        guard (200...499).contains(status) else { return .failure(.implausibleStatus) }
        let contentTypeStart = newline + 1
        let bodyStart = contentTypeStart + max(contentTypeLength, 0)
        guard contentTypeLength <= maxContentTypeBytes, bodyStart <= bytes.count else { return .failure(.badContentType) }
        let contentType = bytes[contentTypeStart..<bodyStart]
        guard isAcceptable(contentType: contentType) else { return .failure(.badContentType) }
        let bodySize = bytes.count - bodyStart
        guard bodySize <= maxBodyBytes else { return .failure(.bodyTooLarge(bodySize)) }
        return .success(IdempotentAnswer(status: status,
                                         contentType: contentTypeLength < 0 ? nil : String(decoding: contentType, as: UTF8.self),
                                         body: Array(bytes[bodyStart...]), upstreamTokenRedacted: redacted == 1))
    }

    private static func isAcceptable(contentType: ArraySlice<UInt8>) -> Bool {
        contentType.count <= maxContentTypeBytes && contentType.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// 1 to 3 ASCII digits (no sign, nothing else); nil otherwise.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 3 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= 0x30 && digit <= 0x39 else { return nil }
            value = value * 10 + Int(digit - 0x30)
        }
        return value
    }
}
