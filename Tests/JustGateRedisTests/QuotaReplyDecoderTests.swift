import JustGateCore
import Testing

@testable import JustGateRedis

/// The limiter script's reply is untrusted input: every hostile shape is refused with a reason, and only
/// plausible replies reach the GCRA.
@Suite struct QuotaReplyDecoderTests {
    static let hourly = GCRALimit(count: 2, periodMicros: 3_600_000_000, burst: 2)
    static let now: Int64 = 1_700_000_000_000_000

    static func reply(_ numbers: [Int64]) -> RESPValue { .array(numbers.map { .integer($0) }) }

    @Test func anHonestReplyDecodes() {
        let decoded = QuotaReplyDecoder.decode(Self.reply([Self.now, -1, Self.now + 1_000]), limits: [Self.hourly, Self.hourly])
        #expect(decoded == .success(QuotaReply(now: Self.now, stored: [nil, Self.now + 1_000])))
    }

    @Test func theFurthestInstantThePolicyCanStoreIsAccepted() {
        let reach = Self.hourly.tolerance + Self.hourly.interval + QuotaReplyDecoder.clockSlackMicros
        #expect((try? QuotaReplyDecoder.decode(Self.reply([Self.now, Self.now + reach]), limits: [Self.hourly]).get()) != nil)
        #expect(QuotaReplyDecoder.decode(Self.reply([Self.now, Self.now + reach + 1]), limits: [Self.hourly])
            == .failure(.storedTooFarAhead(position: 1, aheadMicros: reach + 1, limitMicros: reach)))
    }

    @Test(arguments: [Int64.max, Int64.min, -(Int64.max), 0, -1, QuotaReplyDecoder.latestPlausibleNow])
    func anImplausibleNowIsRefused(now: Int64) {
        #expect(QuotaReplyDecoder.decode(Self.reply([now, -1]), limits: [Self.hourly]) == .failure(.implausibleNow(now)))
    }

    @Test func aNegativeNowWithAFarStoredInstantIsRefusedForTheNow() {
        let decoded = QuotaReplyDecoder.decode(Self.reply([-(Int64.max), 9_200_000_000_000_000_000]), limits: [Self.hourly])
        #expect(decoded == .failure(.implausibleNow(-(Int64.max))))
    }

    @Test(arguments: [Int64.max, 9_200_000_000_000_000_000, now + 3_600_000_000 * 24])
    func aStoredInstantBeyondThePolicysReachIsRefused(stored: Int64) {
        guard case .failure(.storedTooFarAhead(position: 1, _, _)) =
                QuotaReplyDecoder.decode(Self.reply([Self.now, stored]), limits: [Self.hourly]) else {
            Issue.record("stored \(stored) was not refused")
            return
        }
    }

    @Test func anyNegativeStoredInstantIsAbsent() {
        #expect(QuotaReplyDecoder.decode(Self.reply([Self.now, Int64.min]), limits: [Self.hourly])
            == .success(QuotaReply(now: Self.now, stored: [nil])))
    }

    @Test func theWrongShapeIsRefused() {
        let limits = [Self.hourly]
        #expect(QuotaReplyDecoder.decode(.error("ERR boom"), limits: limits) == .failure(.redisError(.other)))
        #expect(QuotaReplyDecoder.decode(.array(nil), limits: limits) == .failure(.notAnArray))
        #expect(QuotaReplyDecoder.decode(.integer(Self.now), limits: limits) == .failure(.notAnArray))
        #expect(QuotaReplyDecoder.decode(.bulk(Array("x".utf8)), limits: limits) == .failure(.notAnArray))
        #expect(QuotaReplyDecoder.decode(Self.reply([Self.now]), limits: limits) == .failure(.wrongLength(expected: 2, got: 1)))
        #expect(QuotaReplyDecoder.decode(Self.reply([Self.now, 1, 2]), limits: limits) == .failure(.wrongLength(expected: 2, got: 3)))
        #expect(QuotaReplyDecoder.decode(.array([.bulk(Array("1".utf8)), .integer(-1)]), limits: limits)
            == .failure(.notAnInteger(position: 0)))
        #expect(QuotaReplyDecoder.decode(.array([.integer(Self.now), .bulk(nil)]), limits: limits)
            == .failure(.notAnInteger(position: 1)))
        #expect(QuotaReplyDecoder.decode(.array([.integer(Self.now), .array([])]), limits: limits)
            == .failure(.notAnInteger(position: 1)))
    }

    @Test func aPolicyWhoseReachOverflowsSaturatesInsteadOfTrapping() {
        // No config can make these numbers; the decoder must still not trap on them.
        let absurd = GCRALimit(count: 1, periodMicros: Int64.max, burst: Int.max)
        #expect((try? QuotaReplyDecoder.decode(Self.reply([Self.now, Int64.max]), limits: [absurd]).get()) != nil)
    }

    @Test func reasonsNameNumbersOnly() {
        #expect(QuotaReplyDecoder.Rejection.implausibleNow(Int64.max).description.contains("9223372036854775807"))
        #expect(!QuotaReplyDecoder.Rejection.redisError(.other).description.contains("boom"))
    }
}
