#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// What the audit log's files must be before justgate writes to them, checked when they are opened.
///
/// Why: the log holds masked personal data and is evidence. A pre-existing `audit.jsonl` at 0644 stayed
/// world-readable; a symbolic link at `audit.path` (even a dangling one) made the gateway create and write
/// whatever it pointed at; and a second gateway whose `audit.path` reached the first one's live file by
/// another name took a lock of its own and interleaved a second chain.
///
/// The decisions:
/// - Files (the live file, the rotated files, the hand-over side file) are made 0600 when they are wider,
///   with a start-up notice naming the file and its old mode; a file justgate may not change (another user's)
///   stops the start, saying what to run. Mending rather than refusing: the usual cause is a file copied or
///   restored with the default umask, and a log that refuses to start takes the gateway down with it.
/// - An existing directory is never changed: it may be shared (`/var/log`), and a new one is made 0700. Its
///   mode protects only the file names, since the files are 0600; but a directory others can write to lets
///   them replace or remove the log's files, so justgate refuses it.
/// - A symbolic link, a FIFO, a device or any other non-regular file where a log file should be is refused;
///   files are opened with `O_NOFOLLOW` so a link put there after the check is refused too.
/// - The live file must have one name (no hard links), and it is `flock`ed itself besides `audit.jsonl.lock`:
///   two writers reaching one file by different paths now meet on the file's inode.
extension AuditFile {
    /// Refuses a directory that users other than the owner and group may write to.
    static func checkDirectory(_ directory: String) throws(Failure) {
        var info = stat()
        guard stat(directory, &info) == 0 else { return }
        if info.st_mode & S_IWOTH != 0 {
            throw Failure(description: """
                the audit directory \(directory) is writable by others (mode \(octal(info.st_mode))): anyone on the \
                host could replace or remove the log's files; run chmod o-w \(directory), or put audit.path in a \
                directory of the gateway's own
                """)
        }
    }

    /// Refuses `path` when it exists and is not a regular file (a symbolic link, dangling or not, a FIFO, a
    /// device); a missing file is fine (it is created with `O_NOFOLLOW`, which catches a link made meanwhile).
    static func refuseUnlessRegular(_ path: String) throws(Failure) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFLNK: throw symbolicLink(path)
        default:
            throw Failure(description: """
                \(path) is not a regular file; the audit log is written only to regular files: move it away, or \
                set audit.path to another file
                """)
        }
    }

    /// Why opening `path` failed, in words that say what to do; `ELOOP` from `O_NOFOLLOW` means a link.
    static func openFailure(_ path: String) -> Failure {
        let reason = errno
        if reason == ELOOP { return symbolicLink(path) }
        if reason == ENXIO {
            return Failure(description: "\(path) is not a regular file (a FIFO or socket); move it away, or set audit.path to another file")
        }
        return Failure(description: "cannot open \(path): \(String(cString: strerror(reason)))")
    }

    private static func symbolicLink(_ path: String) -> Failure {
        Failure(description: """
            \(path) is a symbolic link; justgate writes the audit log only to a regular file at audit.path, never \
            through a link (it could point at another file, or at another gateway's log): remove the link and set \
            audit.path to the real file
            """)
    }

    /// Checks the live file just opened (`fd`, whose `fstat` is `info`): a regular file of one name, mode
    /// 0600 (mended when wider), and not locked by another writer that reached it by another path.
    func secureLiveFile(_ fd: Int32, _ info: stat) throws(Failure) {
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(path) is not a regular file; move it away, or set audit.path to another file")
        }
        guard info.st_nlink <= 1 else {
            throw Failure(description: """
                \(path) has \(info.st_nlink) names (hard links): another name could be another gateway's audit.path \
                or a copy that outlives rotation; remove the other links (find \(directory) -samefile \(path))
                """)
        }
        try secureMode(fd, info, path)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK {
                throw Failure(description: """
                    \(path) is being written by another running justgate that reaches it by another path (a linked \
                    or mounted directory); give each gateway an audit.path of its own
                    """)
            }
            throw failure("cannot lock \(path)")
        }
    }

    /// Makes each rotated file of the log 0600 and refuses one that is a link or not a regular file; run once
    /// the log is ours, before the chain is resumed from them.
    func secureRotatedFiles() throws(Failure) {
        for file in orderedFiles() where file != path {
            try AuditFile.refuseUnlessRegular(file)
            var info = stat()
            guard lstat(file, &info) == 0, info.st_mode & 0o077 != 0 else { continue }
            let opened = Glibc.open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
            guard opened >= 0 else { throw AuditFile.openFailure(file) }
            defer { _ = Glibc.close(opened) }
            guard fstat(opened, &info) == 0 else { throw failure("cannot stat \(file)") }
            try secureMode(opened, info, file)
        }
    }

    /// Sets the mode of `fd` (the file at `name`) to 0600 if group or others have any permission, with a notice;
    /// refuses when that is not allowed (a file of another user).
    private func secureMode(_ fd: Int32, _ info: stat, _ name: String) throws(Failure) {
        guard info.st_mode & 0o077 != 0 else { return }
        let old = AuditFile.octal(info.st_mode)
        guard fchmod(fd, 0o600) == 0 else {
            throw Failure(description: """
                \(name) is mode \(old), readable or writable by users other than the gateway's, and justgate may \
                not change it (\(String(cString: strerror(errno)))): run chown to the gateway's user and chmod 600 \(name)
                """)
        }
        notices.append("\(name) was mode \(old), open to other users; set to 0600")
    }

    /// The permission bits of `mode` as four octal digits, such as `0644`.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
