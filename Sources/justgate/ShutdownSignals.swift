#if canImport(Glibc)
import Glibc
#endif
import JustGateReactor

/// SIGINT/SIGTERM/SIGHUP handling without async signal handlers: the signals are blocked before
/// any thread starts (threads inherit the mask), and the main thread waits for them with `sigwait`.
struct ShutdownSignals {
    private var set = sigset_t()

    static func block() -> ShutdownSignals {
        var signals = ShutdownSignals()
        sigemptyset(&signals.set)
        sigaddset(&signals.set, SIGINT)
        sigaddset(&signals.set, SIGTERM)
        sigaddset(&signals.set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &signals.set, nil)
        // Peers that vanish must never kill the process; writes also use MSG_NOSIGNAL.
        signal(SIGPIPE, SIG_IGN)
        return signals
    }

    /// Blocks until SIGINT, SIGTERM or SIGHUP arrives and returns its number.
    func wait() -> Int32 {
        var set = self.set
        var received: Int32 = 0
        sigwait(&set, &received)
        return received
    }

    /// While the gateway drains, a second SIGINT or SIGTERM ends the process at once (an operator
    /// who presses Ctrl-C twice means it).
    func exitOnSecondSignal() {
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { _ in
            ThreadName.setCurrent("jg-signals")
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGINT)
            sigaddset(&set, SIGTERM)
            var received: Int32 = 0
            sigwait(&set, &received)
            let message = "justgate: second signal \(received) while draining; exiting now\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            _exit(128 + received)
        }, nil)
        if created == 0 { pthread_detach(thread) }
    }
}
