#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft open-files limit to the hard limit at start-up, as nginx's
/// `worker_rlimit_nofile` does: every connection is a descriptor, and the common soft default
/// (1024) would cap the gateway far below `server.max_connections`.
enum FileDescriptorLimit {
    /// Returns the limit now in force.
    @discardableResult
    static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(limit.rlim_cur)
    }
}
