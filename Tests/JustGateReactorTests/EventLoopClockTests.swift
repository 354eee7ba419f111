#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem
import Testing

@testable import JustGateReactor

/// The event loop's timers on an injected clock: time moves when the test says, so these tests never sleep
/// through a delay and cannot be late on a loaded machine.
@Suite struct EventLoopClockTests {
    /// A driver with nothing of its own: the loop's watchers and timers are all there is.
    final class IdleDriver: EventLoopDriver {
        func loopAwoke() {}
        func loopShouldEnd() -> Bool { true }
        func listenerReady(_ fd: Int32) {}
        func connectionReady(_ fd: Int32, events: IOEvents) {}
    }

    final class Fired {
        var names: [String] = []
    }

    /// A loop on `clock`, turned by hand with no wait (`maxWaitMs: 0`).
    final class Harness {
        let loop: EventLoop
        let wakeFD: Int32
        let driver = IdleDriver()
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 16)

        init(clock: MonotonicClock) throws {
            wakeFD = try EventLoop.openWakeup()
            loop = EventLoop(index: 0, epollFD: try EventLoop.openEpoll(), wakeFD: wakeFD, clock: clock)
        }

        deinit {
            events.deallocate()
            _ = close(wakeFD)
        }

        func turn() { loop.turn(driver: driver, events: events, maxWaitMs: 0) }
    }

    @Test func aTimerFiresWhenTheClockReachesItsDeadlineAndNotBefore() throws {
        let manual = ManualClock()
        let harness = try Harness(clock: manual.clock)
        let fired = Fired()
        harness.loop.scheduleTimer(afterMs: 100) { fired.names.append("a") }
        harness.loop.scheduleTimer(afterMs: 250) { fired.names.append("b") }
        harness.turn()
        #expect(fired.names.isEmpty)
        manual.advance(byMilliseconds: 99)
        harness.turn()
        #expect(fired.names.isEmpty)
        manual.advance(byMilliseconds: 1)
        harness.turn()
        #expect(fired.names == ["a"])
        manual.advance(byMilliseconds: 1_000)
        harness.turn()
        #expect(fired.names == ["a", "b"])
    }

    @Test func theTurnsTimeIsTheInjectedClocks() throws {
        let manual = ManualClock()
        let harness = try Harness(clock: manual.clock)
        let start = harness.loop.now
        manual.advance(byMilliseconds: 42)
        harness.turn()
        #expect(harness.loop.now.nanoseconds(since: start) == 42_000_000)
    }

    @Test func aCancelledTimerNeverFires() throws {
        let manual = ManualClock()
        let harness = try Harness(clock: manual.clock)
        let fired = Fired()
        let id = harness.loop.scheduleTimer(afterMs: 10) { fired.names.append("cancelled") }
        harness.loop.cancelTimer(id)
        manual.advance(byMilliseconds: 20)
        harness.turn()
        #expect(fired.names.isEmpty)
    }

    @Test func instantArithmeticStatesItsUnits() {
        let instant = MonotonicInstant(nanoseconds: 5_000_000_500)
        #expect(instant.milliseconds == 5_000)
        #expect(instant.microseconds == 5_000_000)
        #expect(instant.advanced(byMilliseconds: 3).nanoseconds == 5_003_000_500)
        #expect(instant.advanced(byMilliseconds: -3) == instant)
        #expect(instant.nanoseconds(since: instant.advanced(byMilliseconds: 1)) == 0)
        // A wait is rounded up, so a loop never wakes before its timer is due.
        #expect(instant.milliseconds(until: MonotonicInstant(nanoseconds: 5_000_000_501)) == 1)
        #expect(instant.milliseconds(until: instant) == 0)
    }
}
