/// The raw bytes of a lane's queued records: a loop writes a record's header and packet straight into it,
/// where an array would have needed a scratch buffer and a copy (its spare capacity cannot be written to).
///
/// A plain value holding raw memory: exactly one place owns a given buffer at any time (a lane, or the
/// writer's spare for that lane, which trade buffers by `swap`), and that owner calls `deallocate` once.
/// Nothing else keeps a copy: the writer reads a spare through `bytes`, never by copying the value. (A
/// non-copyable type would say this in the compiler's words, but the writer keeps its spares in an array.)
///
/// `Sendable` because the `swap` happens inside the lane's `Mutex.withLock`, whose value crosses threads;
/// `@unchecked` because of the raw pointer: a buffer moves between a loop and the writer thread only by that
/// `swap`, and neither side keeps a pointer into it past the lock (loop) or the batch (writer), so its memory
/// is never reached from two threads at once, and the lock orders the writes before the reads.
struct AuditLaneBuffer: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer?
    /// Bytes written.
    private(set) var count = 0
    private(set) var capacity = 0

    /// Where `extra` more bytes can be written, after the `count` already there; grows (at least doubling)
    /// when they do not fit. Nothing is counted until `commit`.
    mutating func reserve(_ extra: Int) -> UnsafeMutableRawPointer {
        if let base, count + extra <= capacity { return base + count }
        let grown = max(count + extra, capacity * 2, 4096)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
        if let base {
            memory.copyMemory(from: base, byteCount: count)
            base.deallocate()
        }
        base = memory
        capacity = grown
        return memory + count
    }

    /// Counts `written` bytes written at what `reserve` returned.
    mutating func commit(_ written: Int) {
        precondition(count + written <= capacity, "AuditLaneBuffer: committed more than was reserved")
        count += written
    }

    /// Forgets the bytes and keeps the memory.
    mutating func removeAll() { count = 0 }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Gives the memory back; the buffer is then empty and can grow again.
    mutating func deallocate() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}
