#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM handling without async signal handlers: the signals are blocked before any
/// thread starts (threads inherit the mask), and the main thread waits for them with `sigwait`.
struct ShutdownSignals {
    private var set = sigset_t()

    static func block() -> ShutdownSignals {
        var signals = ShutdownSignals()
        sigemptyset(&signals.set)
        sigaddset(&signals.set, SIGINT)
        sigaddset(&signals.set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals.set, nil)
        // Peers that vanish must never kill the process; writes also use MSG_NOSIGNAL.
        signal(SIGPIPE, SIG_IGN)
        return signals
    }

    /// Blocks until SIGINT or SIGTERM arrives and returns its number.
    func wait() -> Int32 {
        var set = self.set
        var received: Int32 = 0
        sigwait(&set, &received)
        return received
    }
}
