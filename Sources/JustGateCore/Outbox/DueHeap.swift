/// A min-heap of (time, sequence, id): the outbox's heads by their next attempt, earliest (then oldest) first.
///
/// Items are never updated in place: a changed entry pushes a new item and the old one is recognised as stale
/// (`OutboxQueue.validHead`) when it reaches the top, which keeps every operation O(log n) without an index.
struct DueHeap: Sendable {
    struct Item: Sendable, Equatable {
        var atMs: Int64
        var sequence: UInt64
        var id: String

        func isBefore(_ other: Item) -> Bool {
            (atMs, sequence) < (other.atMs, other.sequence)
        }
    }

    private var items: [Item] = []

    var peek: Item? { items.first }
    var count: Int { items.count }

    mutating func push(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].isBefore(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> Item? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left].isBefore(items[smallest]) { smallest = left }
            if right < items.count && items[right].isBefore(items[smallest]) { smallest = right }
            guard smallest != parent else { return top }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
