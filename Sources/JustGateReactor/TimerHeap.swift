/// One event loop's timers as a binary min-heap ordered by (deadline, scheduling order), so
/// finding the next deadline is a look at the top and firing one is O(log n), instead of scanning
/// every timer on every loop iteration (the dictionary this replaces).
///
/// Cancellation is lazy: `cancel` only frees the timer's slot, and its entry is dropped when it
/// reaches the top. libcurl re-arms its timer on every call (cancel, then schedule), usually with
/// its whole transfer timeout, so stale entries would pile up between requests; once they
/// outnumber the live ones the heap is rebuilt without them, which keeps its size within twice
/// the live timers (plus a small constant) at an amortised O(1) per cancellation.
///
/// Liveness needs no hashing (this runs several times per request): an id is a slot number and
/// that slot's generation, and a slot's generation moves on when its timer fires or is cancelled,
/// so an entry or id from before is recognised as stale by one array read.
struct TimerHeap {
    /// A named struct holding the closure, not a tuple: a closure stored directly in a generic
    /// container is re-abstracted through a heap-allocated thunk on every insert.
    struct Entry {
        /// `MonotonicInstant.nanoseconds` of the moment the timer is due.
        let deadline: UInt64
        /// Scheduling order: among equal deadlines the earlier scheduled fires first.
        let sequence: UInt64
        let slot: Int
        let generation: UInt32
        let action: () -> Void

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
        }
    }

    private var entries: [Entry] = []
    /// Each slot's current generation: an entry or id carrying another one is stale.
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    /// Timers scheduled and neither fired nor cancelled.
    private(set) var count = 0
    /// The sequence number of the latest `schedule`; a firing pass takes it as its limit.
    private(set) var lastSequence: UInt64 = 0

    var isEmpty: Bool { count == 0 }
    /// Entries held, stale ones included (for tests of the compaction bound).
    var storedCount: Int { entries.count }

    /// Adds a timer that is due at `deadline`; returns its id for `cancel` (never 0).
    mutating func schedule(deadline: UInt64, _ action: @escaping () -> Void) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = generations.count
            generations.append(1)
        }
        let generation = generations[slot]
        lastSequence &+= 1
        count += 1
        entries.append(Entry(deadline: deadline, sequence: lastSequence, slot: slot, generation: generation, action: action))
        siftUp(entries.count - 1)
        return Int(generation) << 32 | slot
    }

    /// Forgets a timer; an id that already fired, was cancelled or was never issued is ignored.
    mutating func cancel(_ id: Int) {
        let slot = id & 0xFFFF_FFFF
        guard id > 0, slot < generations.count, UInt32(truncatingIfNeeded: id >> 32) == generations[slot] else { return }
        release(slot)
        let stale = entries.count - count
        if stale > 4 && stale > count { compact() }
    }

    /// The earliest deadline of a live timer, nil when there is none.
    mutating func nextDeadline() -> UInt64? {
        dropStaleTop()
        return entries.first?.deadline
    }

    /// Removes and returns the earliest live timer's action if it is due at `now` and was scheduled
    /// no later than `lastSequenceBefore`: a pass that fires due timers stops at the ones its own
    /// actions schedule (a timer re-armed with no delay waits for the next pass rather than spinning).
    /// New timers are due no earlier than the pass's `now`, so every older due timer sorts before them.
    mutating func popDue(now: UInt64, scheduledUpTo lastSequenceBefore: UInt64) -> (() -> Void)? {
        dropStaleTop()
        guard let top = entries.first, top.deadline <= now, top.sequence <= lastSequenceBefore else { return nil }
        removeTop()
        release(top.slot)
        return top.action
    }

    private func isLive(_ entry: Entry) -> Bool {
        generations[entry.slot] == entry.generation
    }

    /// Moves the slot's generation on (its entry and id become stale) and offers it for reuse.
    private mutating func release(_ slot: Int) {
        generations[slot] &+= 1
        if generations[slot] == 0 { generations[slot] = 1 }  // ids stay non-zero
        freeSlots.append(slot)
        count -= 1
    }

    private mutating func dropStaleTop() {
        while let top = entries.first, !isLive(top) { removeTop() }
    }

    private mutating func removeTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    /// Rebuilds the heap from its live entries (Floyd's bottom-up construction, O(n)).
    private mutating func compact() {
        let generations = self.generations
        entries.removeAll { generations[$0.slot] != $0.generation }
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var smallest = left
            let right = left + 1
            if right < count && entries[right].precedes(entries[left]) { smallest = right }
            guard entries[smallest].precedes(entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
