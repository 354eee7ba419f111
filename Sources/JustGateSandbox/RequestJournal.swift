/// The most recent requests the sandbox received, oldest first, so tests can assert what reached the "upstream".
///
/// A ring buffer keeps memory fixed however long a demo runs.
struct RequestJournal: Sendable {
    /// How many requests are kept; older ones are overwritten.
    static let capacity = 256

    private var entries: [SandboxRequest] = []
    /// Where the next entry goes once the buffer is full.
    private var nextSlot = 0

    /// Remembers `request`, evicting the oldest one when full.
    mutating func record(_ request: SandboxRequest) {
        if entries.count < Self.capacity {
            entries.append(request)
        } else {
            entries[nextSlot] = request
            nextSlot = (nextSlot + 1) % Self.capacity
        }
    }

    /// The kept requests in arrival order.
    var chronological: [SandboxRequest] {
        Array(entries[nextSlot...] + entries[..<nextSlot])
    }
}
