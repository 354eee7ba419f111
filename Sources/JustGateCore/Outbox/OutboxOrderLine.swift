/// The pending ids of one order key (site and juid), oldest (lowest sequence) first.
///
/// Why a type of its own: the line was an array taken out of the queue's dictionary, changed and put back,
/// which copied it on every change, and its head was removed with `remove(at: 0)`, which shifts the rest. A
/// site that deferred many calls for one juid during an outage then paid for the whole line on every entry
/// delivered. Here the head is taken by moving an offset (the taken slots are dropped once they are half the
/// storage), a new entry (the newest, as a rule) is appended, and the queue changes the line in place.
public struct OutboxOrderLine: Sendable {
    private var ids: [String] = []
    private var start = 0

    public init() {}

    public var first: String? { start < ids.count ? ids[start] : nil }
    public var isEmpty: Bool { start >= ids.count }
    public var count: Int { ids.count - start }

    /// Puts `id` in its place by sequence: appended when it is the newest (the usual case), otherwise after the
    /// last older one (an entry restored at replay, or carried forward).
    public mutating func insert(_ id: String, sequence: UInt64, sequenceOf: (String) -> UInt64) {
        guard let last = ids.last, start < ids.count, sequenceOf(last) > sequence else {
            ids.append(id)
            return
        }
        var index = ids.count - 1
        while index >= start, sequenceOf(ids[index]) > sequence { index -= 1 }
        ids.insert(id, at: index + 1)
    }

    /// Removes `id`; whether it was the head. False too when it is not in the line.
    @discardableResult
    public mutating func remove(_ id: String) -> (removed: Bool, wasHead: Bool) {
        if first == id {
            start += 1
            if start == ids.count {
                ids.removeAll(keepingCapacity: false)
                start = 0
            } else if start > 16 && start * 2 > ids.count {
                ids.removeFirst(start)
                start = 0
            }
            return (true, true)
        }
        guard let index = ids[start...].firstIndex(of: id) else { return (false, false) }
        ids.remove(at: index)
        return (true, false)
    }

    /// The ids, oldest first.
    public var all: ArraySlice<String> { ids[start...] }
}
