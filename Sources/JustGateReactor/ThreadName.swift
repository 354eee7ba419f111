import CLinuxSystem

/// Names the threads justgate starts (`jg-loop-0`, `jg-log`, `jg-signals`), so `top -H`, `ps -L` and
/// a profiler show which thread is busy instead of a column of `justgate`.
///
/// Foundation's `Thread.name` does not reach the kernel on Linux, so this calls `pthread_setname_np`
/// from inside the thread being named.
public enum ThreadName {
    /// Sets the kernel name of the calling thread; names longer than 15 bytes are cut to 15.
    public static func setCurrent(_ name: String) {
        _ = jg_set_current_thread_name(name)
    }
}
