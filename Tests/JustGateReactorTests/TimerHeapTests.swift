import Testing

@testable import JustGateReactor

/// The event loop's timer heap on its own: no loop, no clock. Each action records its name, and
/// `fire` plays the loop's part (pop every due timer scheduled before the pass).
@Suite struct TimerHeapTests {
    /// Records which timers fired, in order; a class so actions can share it.
    final class Log {
        var fired: [String] = []
    }

    /// Pops every timer due at `now` the way `EventLoop.runDueTimers` does.
    func fire(_ heap: inout TimerHeap, now: UInt64) {
        let lastBefore = heap.lastSequence
        while let action = heap.popDue(now: now, scheduledUpTo: lastBefore) { action() }
    }

    @Test func firesInDeadlineOrderWhateverTheSchedulingOrder() {
        var heap = TimerHeap()
        let log = Log()
        for (name, deadline) in [("e", 50), ("a", 10), ("d", 40), ("b", 20), ("f", 60), ("c", 30)] {
            _ = heap.schedule(deadline: UInt64(deadline)) { log.fired.append(name) }
        }
        #expect(heap.nextDeadline() == 10)
        fire(&heap, now: 35)
        #expect(log.fired == ["a", "b", "c"])
        #expect(heap.nextDeadline() == 40)
        fire(&heap, now: 1000)
        #expect(log.fired == ["a", "b", "c", "d", "e", "f"])
        #expect(heap.isEmpty && heap.nextDeadline() == nil)
    }

    @Test func equalDeadlinesFireInSchedulingOrder() {
        var heap = TimerHeap()
        let log = Log()
        for name in ["1", "2", "3", "4", "5", "6", "7"] {
            _ = heap.schedule(deadline: 100) { log.fired.append(name) }
        }
        _ = heap.schedule(deadline: 99) { log.fired.append("early") }
        fire(&heap, now: 100)
        #expect(log.fired == ["early", "1", "2", "3", "4", "5", "6", "7"])
    }

    @Test func aCancelledTimerNeverFiresAndDoesNotHoldTheNextDeadline() {
        var heap = TimerHeap()
        let log = Log()
        let first = heap.schedule(deadline: 10) { log.fired.append("first") }
        _ = heap.schedule(deadline: 20) { log.fired.append("second") }
        heap.cancel(first)
        heap.cancel(first)  // twice: ignored
        heap.cancel(12345)  // never issued: ignored
        heap.cancel(0)
        heap.cancel(-1)
        #expect(heap.count == 1)
        #expect(heap.nextDeadline() == 20)
        fire(&heap, now: 100)
        #expect(log.fired == ["second"])
    }

    /// The heap in a class, as the loop holds it, so actions can reach it while a pass runs.
    final class Loop {
        var heap = TimerHeap()

        func runDue(now: UInt64) {
            let lastBefore = heap.lastSequence
            while let action = heap.popDue(now: now, scheduledUpTo: lastBefore) { action() }
        }
    }

    @Test func anActionCanCancelALaterDueTimer() {
        let loop = Loop()
        let log = Log()
        var victim = 0
        _ = loop.heap.schedule(deadline: 5) { log.fired.append("canceller"); loop.heap.cancel(victim) }
        victim = loop.heap.schedule(deadline: 6) { log.fired.append("victim") }
        loop.runDue(now: 10)
        #expect(log.fired == ["canceller"])
        #expect(loop.heap.isEmpty)
    }

    /// libcurl's pattern: every call cancels its timer and schedules a new one.
    @Test func reArmingReplacesTheDeadline() {
        var heap = TimerHeap()
        let log = Log()
        var id = heap.schedule(deadline: 1000) { log.fired.append("old") }
        heap.cancel(id)
        id = heap.schedule(deadline: 30) { log.fired.append("new") }
        #expect(heap.nextDeadline() == 30)
        fire(&heap, now: 30)
        #expect(log.fired == ["new"])
        #expect(heap.nextDeadline() == nil)
        fire(&heap, now: 5000)
        #expect(log.fired == ["new"])
        heap.cancel(id)  // after it fired: ignored
        #expect(heap.isEmpty)
    }

    /// Ids carry their slot's generation: an old id whose slot now holds another timer (libcurl and
    /// Redis keep ids of timers that already fired) must not cancel the newcomer.
    @Test func aStaleIdDoesNotCancelTheTimerThatReusedItsSlot() {
        var heap = TimerHeap()
        let log = Log()
        let fired = heap.schedule(deadline: 1) { log.fired.append("fired") }
        fire(&heap, now: 1)
        let cancelled = heap.schedule(deadline: 2) { log.fired.append("cancelled") }
        heap.cancel(cancelled)
        let newcomer = heap.schedule(deadline: 3) { log.fired.append("newcomer") }
        #expect(Set([fired, cancelled, newcomer]).count == 3)
        heap.cancel(fired)
        heap.cancel(cancelled)
        #expect(heap.count == 1)
        fire(&heap, now: 3)
        #expect(log.fired == ["fired", "newcomer"])
    }

    /// A timer that an action schedules, even one due at once, waits for the next pass.
    @Test func aTimerScheduledByAnActionWaitsForTheNextPass() {
        let loop = Loop()
        let log = Log()
        _ = loop.heap.schedule(deadline: 10) {
            log.fired.append("tick")
            _ = loop.heap.schedule(deadline: 10) { log.fired.append("again") }
        }
        loop.runDue(now: 10)
        #expect(log.fired == ["tick"])
        #expect(loop.heap.nextDeadline() == 10)
        loop.runDue(now: 10)
        #expect(log.fired == ["tick", "again"])
    }

    /// Cancelled entries are dropped lazily, but they cannot pile up: a long run of re-arms keeps the
    /// stored entries within twice the live ones plus a small constant.
    @Test func reArmingManyTimesKeepsTheHeapSmall() {
        var heap = TimerHeap()
        let log = Log()
        _ = heap.schedule(deadline: 1_000_000) { log.fired.append("long") }
        var id = 0
        for round in 0..<10_000 {
            if id != 0 { heap.cancel(id) }
            id = heap.schedule(deadline: UInt64(10_000 + round)) { log.fired.append("rearmed") }
            #expect(heap.storedCount <= 2 * heap.count + 5)
        }
        #expect(heap.count == 2)
        #expect(heap.nextDeadline() == 19_999)
        fire(&heap, now: 2_000_000)
        #expect(log.fired == ["rearmed", "long"])
    }

    /// Many timers with shuffled deadlines and a third cancelled come out sorted by (deadline, id).
    @Test func manyTimersComeOutSorted() {
        var heap = TimerHeap()
        let log = Log()
        var generator = SystemRandomNumberGenerator()
        var expected: [(deadline: UInt64, id: Int)] = []
        var cancelled: Set<Int> = []
        for _ in 0..<2000 {
            let deadline = UInt64.random(in: 0..<300, using: &generator)
            let name = expected.count
            let id = heap.schedule(deadline: deadline) { log.fired.append(String(name)) }
            expected.append((deadline, name))
            if Int.random(in: 0..<3, using: &generator) == 0 {
                heap.cancel(id)
                cancelled.insert(name)
            }
        }
        fire(&heap, now: 300)
        let order = expected.filter { !cancelled.contains($0.id) }
            .sorted { $0.deadline != $1.deadline ? $0.deadline < $1.deadline : $0.id < $1.id }
            .map { String($0.id) }
        #expect(log.fired == order)
        #expect(heap.isEmpty)
    }
}
