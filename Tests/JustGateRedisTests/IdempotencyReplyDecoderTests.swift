import JustGateCore
import Testing

@testable import JustGateRedis

/// The idempotency script's replies and the stored answers in them are untrusted input: every honest
/// shape decodes, every hostile one is refused with a reason, and nothing a Redis sends can become a
/// header the gateway would not write itself.
@Suite struct IdempotencyReplyDecoderTests {
    static let answer = IdempotentAnswer(status: 200, contentType: "application/json",
                                         body: Array("{\"juid\":\"0123456789abcdef0123456789abcdef\"}".utf8),
                                         upstreamTokenRedacted: true)

    static func stored(_ text: String) -> RESPValue { .array([.integer(2), .bulk(Array(text.utf8))]) }

    @Test func honestClaimRepliesDecode() throws {
        #expect(IdempotencyReplyDecoder.decodeClaim(.array([.integer(1)])) == .success(.proceed))
        #expect(IdempotencyReplyDecoder.decodeClaim(.array([.integer(3)])) == .success(.inProgress))
        #expect(IdempotencyReplyDecoder.decodeClaim(.array([.integer(4)])) == .success(.mismatch))
        let bytes = try #require(IdempotentAnswerCodec.encode(Self.answer))
        #expect(IdempotencyReplyDecoder.decodeClaim(.array([.integer(2), .bulk(bytes)])) == .success(.replay(Self.answer)))
    }

    @Test(arguments: [
        IdempotentAnswer(status: 200, contentType: nil, body: []),
        IdempotentAnswer(status: 200, contentType: "", body: [0, 0xFF, 0x0D, 0x0A]),
        IdempotentAnswer(status: 422, contentType: "text/plain; charset=utf-8", body: Array("no".utf8), upstreamTokenRedacted: true),
        IdempotentAnswer(status: 499, contentType: String(repeating: "x", count: 256),
                         body: [UInt8](repeating: 7, count: IdempotentAnswerCodec.maxBodyBytes)),
    ])
    func answersRoundTrip(_ answer: IdempotentAnswer) throws {
        let bytes = try #require(IdempotentAnswerCodec.encode(answer))
        #expect(IdempotentAnswerCodec.decode(bytes) == .success(answer))
    }

    @Test(arguments: [
        IdempotentAnswer(status: 500, contentType: nil, body: []),
        IdempotentAnswer(status: 199, contentType: nil, body: []),
        IdempotentAnswer(status: 200, contentType: "text/plain\r\nSet-Cookie: a=b", body: []),
        IdempotentAnswer(status: 200, contentType: String(repeating: "x", count: 257), body: []),
        IdempotentAnswer(status: 200, contentType: nil, body: [UInt8](repeating: 0, count: IdempotentAnswerCodec.maxBodyBytes + 1)),
    ])
    func answersThatCannotBeKeptAreNotEncoded(_ answer: IdempotentAnswer) {
        #expect(IdempotentAnswerCodec.encode(answer) == nil)
    }

    struct Hostile: Sendable, CustomTestStringConvertible {
        var name: String
        var reply: RESPValue
        var rejection: IdempotencyReplyDecoder.Rejection
        var testDescription: String { name }
    }

    static let hostile: [Hostile] = [
        Hostile(name: "an error", reply: .error("ERR boom"), rejection: .redisError(.other)),
        Hostile(name: "a null array", reply: .array(nil), rejection: .unexpectedShape),
        Hostile(name: "an empty array", reply: .array([]), rejection: .unexpectedShape),
        Hostile(name: "an integer", reply: .integer(1), rejection: .unexpectedShape),
        Hostile(name: "a bulk string", reply: .bulk(Array("1".utf8)), rejection: .unexpectedShape),
        Hostile(name: "a null bulk", reply: .bulk(nil), rejection: .unexpectedShape),
        Hostile(name: "a simple string", reply: .simple("OK"), rejection: .unexpectedShape),
        Hostile(name: "a tag that is text", reply: .array([.bulk(Array("1".utf8))]), rejection: .unexpectedShape),
        Hostile(name: "tag 0", reply: .array([.integer(0)]), rejection: .unknownTag(0)),
        Hostile(name: "tag 5", reply: .array([.integer(5)]), rejection: .unknownTag(5)),
        Hostile(name: "tag max", reply: .array([.integer(.max)]), rejection: .unknownTag(.max)),
        Hostile(name: "tag min", reply: .array([.integer(.min)]), rejection: .unknownTag(.min)),
        Hostile(name: "proceed with extra", reply: .array([.integer(1), .integer(1)]), rejection: .unexpectedShape),
        Hostile(name: "replay without an answer", reply: .array([.integer(2)]), rejection: .unexpectedShape),
        Hostile(name: "replay with a null answer", reply: .array([.integer(2), .bulk(nil)]), rejection: .unexpectedShape),
        Hostile(name: "replay with an integer", reply: .array([.integer(2), .integer(200)]), rejection: .unexpectedShape),
        Hostile(name: "replay with a nested array", reply: .array([.integer(2), .array([.bulk([])])]), rejection: .unexpectedShape),
        Hostile(name: "replay with an empty answer", reply: stored(""), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "another format", reply: stored("JGI2 200 0 -1\nbody"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "no newline", reply: stored("JGI1 200 0 -1"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "a long header", reply: stored("JGI1 200 0 " + String(repeating: "0", count: 40) + "\n"),
                rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "status 500", reply: stored("JGI1 500 0 -1\n"), rejection: .badAnswer(.implausibleStatus)),
        Hostile(name: "status 099", reply: stored("JGI1 099 0 -1\n"), rejection: .badAnswer(.implausibleStatus)),
        Hostile(name: "status with a sign", reply: stored("JGI1 +20 0 -1\n"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "status of 2 digits", reply: stored("JGI1 20 0 -1\n"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "redacted 2", reply: stored("JGI1 200 2 -1\n"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "four fields", reply: stored("JGI1 200 0 -1 9\n"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "negative length", reply: stored("JGI1 200 0 -2\n"), rejection: .badAnswer(.malformedHeader)),
        Hostile(name: "content type past the end", reply: stored("JGI1 200 0 20\nshort"), rejection: .badAnswer(.badContentType)),
        Hostile(name: "content type too long", reply: stored("JGI1 200 0 300\n" + String(repeating: "x", count: 300)),
                rejection: .badAnswer(.badContentType)),
        Hostile(name: "header injection", reply: stored("JGI1 200 0 28\ntext/plain\r\nSet-Cookie: a=b1"),
                rejection: .badAnswer(.badContentType)),
        Hostile(name: "a body too large",
                reply: stored("JGI1 200 0 -1\n" + String(repeating: "b", count: IdempotentAnswerCodec.maxBodyBytes + 1)),
                rejection: .badAnswer(.bodyTooLarge(IdempotentAnswerCodec.maxBodyBytes + 1))),
    ]

    @Test(arguments: hostile)
    func hostileClaimRepliesAreRefused(_ hostile: Hostile) {
        #expect(IdempotencyReplyDecoder.decodeClaim(hostile.reply) == .failure(hostile.rejection))
    }

    @Test func completionRepliesAreChecked() {
        #expect(IdempotencyReplyDecoder.decodeCompletion(.integer(1)) == .success(true))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.integer(0)) == .success(false))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.integer(2)) == .failure(.unknownTag(2)))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.integer(-1)) == .failure(.unknownTag(-1)))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.error("NOSCRIPT")) == .failure(.redisError(.other)))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.array([.integer(1)])) == .failure(.unexpectedShape))
        #expect(IdempotencyReplyDecoder.decodeCompletion(.bulk(nil)) == .failure(.unexpectedShape))
    }

    @Test func rejectionsNeverQuoteTheReply() {
        for hostile in Self.hostile {
            #expect(!hostile.rejection.description.contains("Set-Cookie"))
        }
    }

    /// Random bytes after a valid-looking header never crash the decoder, and whatever decodes is an answer
    /// the gateway could have stored itself.
    @Test func randomStoredBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<40, using: &generator)
            var bytes = Array("JGI1 ".utf8)
            bytes += (0..<length).map { _ in [0x20, 0x0A, 0x2D, 0x30, 0x31, 0x32, 0x34, 0x39, 0x41, 0x0D][Int.random(in: 0..<10, using: &generator)] }
            if case .success(let answer) = IdempotentAnswerCodec.decode(bytes) {
                #expect(IdempotentAnswerCodec.encode(answer) != nil)
            }
        }
    }
}
