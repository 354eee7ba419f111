/// One event loop's timers as a binary min-heap ordered by (deadline, id), so finding the next
/// deadline is a look at the top and firing one is O(log n), instead of scanning every timer on
/// every loop iteration (the dictionary this replaces).
///
/// Cancellation is lazy: `cancel` only forgets the id, and its entry is dropped when it reaches
/// the top. libcurl re-arms its timer on every call (cancel, then schedule), usually with its
/// whole transfer timeout, so stale entries would pile up between requests; once they outnumber
/// the live ones the heap is rebuilt without them, which keeps its size within twice the live
/// timers (plus a small constant) at an amortised O(1) per cancellation.
///
/// Ids grow with each `schedule`, so among equal deadlines the earlier scheduled fires first.
struct TimerHeap {
    /// A named struct holding the closure, not a tuple: a closure stored directly in a generic
    /// container is re-abstracted through a heap-allocated thunk on every insert.
    struct Entry {
        let deadline: UInt64
        let id: Int
        let action: () -> Void

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private var entries: [Entry] = []
    /// The ids scheduled and neither fired nor cancelled; an entry whose id is missing is stale.
    private var live: Set<Int> = []
    private(set) var lastID = 0

    /// Timers scheduled and neither fired nor cancelled.
    var count: Int { live.count }
    var isEmpty: Bool { live.isEmpty }
    /// Entries held, stale ones included (for tests of the compaction bound).
    var storedCount: Int { entries.count }

    /// Adds a timer that is due at `deadline`; returns its id for `cancel`.
    mutating func schedule(deadline: UInt64, _ action: @escaping () -> Void) -> Int {
        lastID &+= 1
        live.insert(lastID)
        entries.append(Entry(deadline: deadline, id: lastID, action: action))
        siftUp(entries.count - 1)
        return lastID
    }

    /// Forgets a timer; an id that already fired or was cancelled is ignored.
    mutating func cancel(_ id: Int) {
        guard live.remove(id) != nil else { return }
        let stale = entries.count - live.count
        if stale > 32 && stale > live.count { compact() }
    }

    /// The earliest deadline of a live timer, nil when there is none.
    mutating func nextDeadline() -> UInt64? {
        dropStaleTop()
        return entries.first?.deadline
    }

    /// Removes and returns the earliest live timer's action if it is due at `now` and was scheduled
    /// with an id at most `lastIDBefore`: a pass that fires due timers stops at the ones their own
    /// actions scheduled (a timer re-armed with no delay waits for the next pass rather than spinning).
    /// New timers are due no earlier than the pass's `now`, so any older due timer sorts before them.
    mutating func popDue(now: UInt64, scheduledUpTo lastIDBefore: Int) -> (() -> Void)? {
        dropStaleTop()
        guard let top = entries.first, top.deadline <= now, top.id <= lastIDBefore else { return nil }
        removeTop()
        live.remove(top.id)
        return top.action
    }

    private mutating func dropStaleTop() {
        while let top = entries.first, !live.contains(top.id) { removeTop() }
    }

    private mutating func removeTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    /// Rebuilds the heap from its live entries (Floyd's bottom-up construction, O(n)).
    private mutating func compact() {
        entries.removeAll { !live.contains($0.id) }
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
