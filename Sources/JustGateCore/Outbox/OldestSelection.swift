/// The `limit` lowest sequence numbers offered, kept in a bounded max-heap: what an operator's listing of the
/// oldest entries needs from an outbox of any depth. One pass over the entries, each compared with the
/// youngest kept (O(n log limit) at worst, no copy or sort of the whole outbox), so `GET /outbox` during a
/// backlog of a hundred thousand entries holds the store's lock, and the event loops asking it about live
/// calls, for a scan and not for a sort.
struct OldestSelection {
    private(set) var limit: Int
    /// A max-heap on `sequence`: the youngest kept entry is at the top, the first to give way.
    private var heap: [(sequence: UInt64, id: String)] = []

    init(limit: Int) {
        self.limit = max(0, limit)
        heap.reserveCapacity(min(self.limit, 4096))
    }

    mutating func offer(sequence: UInt64, id: String) {
        if heap.count < limit {
            heap.append((sequence, id))
            siftUp(heap.count - 1)
        } else if let top = heap.first, sequence < top.sequence {
            heap[0] = (sequence, id)
            siftDown(0)
        }
    }

    /// The kept ids, oldest first.
    func idsOldestFirst() -> [String] {
        heap.sorted { $0.sequence < $1.sequence }.map(\.id)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].sequence > heap[parent].sequence else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var largest = parent
            if left < heap.count && heap[left].sequence > heap[largest].sequence { largest = left }
            if right < heap.count && heap[right].sequence > heap[largest].sequence { largest = right }
            guard largest != parent else { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }
}
