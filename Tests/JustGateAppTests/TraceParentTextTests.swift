@testable import JustGateApp
import Testing
import W3CTraceContext

/// The `traceparent` and trace id justgate write byte by byte must be the library's, character for character.
struct TraceParentTextTests {
    @Test(arguments: [0, 1, 0x0A, 0xFF] as [UInt8])
    func matchesTheLibrarysHeaderValue(flags: UInt8) {
        var random = SplitMix64(seed: UInt64(flags) &+ 42)
        for _ in 0..<50 {
            let trace = TraceContext(traceID: TraceID.random(using: &random), spanID: SpanID.random(using: &random),
                                     flags: TraceFlags(rawValue: flags), state: TraceState())
            #expect(trace.traceParentText == trace.traceParentHeaderValue)
            #expect(trace.traceParentText.utf8.count == 55)
        }
    }

    @Test func traceIDTextMatchesTheLibrarysDescription() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let id = TraceID.random(using: &random)
            #expect(id.hexText == id.description)
        }
    }
}
