@testable import JustGateApp
import Testing

/// An outage is one span from the first loop down to the last loop back, however the loops' reports interleave.
@Suite struct LoopOutageTests {
    final class Loop {}

    @Test func beginsWithTheFirstLoopDownAndEndsWithTheLastBack() {
        let outage = LoopOutage()
        let loopA = Loop(), loopB = Loop()
        let first = ObjectIdentifier(loopA), second = ObjectIdentifier(loopB)
        #expect(outage.report(first, down: false) == nil)   // up while nothing is down: nothing to say
        #expect(outage.report(first, down: true) == .began)
        #expect(outage.report(second, down: true) == nil)
        #expect(outage.report(first, down: true) == nil)   // a repeated report changes nothing
        #expect(outage.report(first, down: false) == nil)  // one loop back, the other still down
        #expect(outage.report(second, down: false) == .ended)
        #expect(outage.report(second, down: false) == nil)
    }
}
