#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// The file backend's files: `segment-<number>.log` under `outbox.path`, appended to and never edited, and
/// `outbox.lock`, held while a gateway owns the directory. Used by the store's writer thread (and at open).
///
/// Same hygiene as the audit log (`AuditFile+Hygiene`), and stricter about the directory, which is the outbox's
/// own (never shared like `/var/log`) and whose files hold the sites' calls: it is created 0700 and refused when
/// group or others may write to it or when another user owns it (either could replace or remove segments).
/// Files are created 0600 and opened with `O_NOFOLLOW | O_NONBLOCK`, and what was opened is checked with
/// `fstat` to be a regular file (a check by name before the open can be raced); a symbolic link or anything
/// but a regular file where a segment should be is refused. A new segment's directory entry is synced before the
/// segment is used, so a power cut cannot lose a whole segment whose records were acknowledged.
final class OutboxSegmentFiles {
    /// Why a file operation failed: the path, the system's reason and what to do.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    private var lockFD: Int32 = -1
    private(set) var liveFD: Int32 = -1
    private(set) var liveNumber = 0
    private(set) var liveSize = 0

    init(directory: String) {
        self.directory = directory
    }

    deinit { close() }

    func path(of number: Int) -> String {
        let digits = String(number)
        return directory + "/segment-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".log"
    }

    /// Creates the directory if needed and takes its lock: one gateway per outbox directory, since two would
    /// deliver each other's entries and interleave their records. False when another process holds it (a
    /// `serve --replace` tries again until that process lets go); `heldDescription` says what to do then.
    func lock() throws(Failure) -> Bool {
        let lockPath = directory + "/outbox.lock"
        if lockFD < 0 {
            try makeDirectory(directory)
            try checkDirectory()
            try refuseUnlessRegular(lockPath)
            let opened = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
            guard opened >= 0 else { throw failure("cannot open \(lockPath)") }
            lockFD = opened
            try refuseUnlessRegular(opened, lockPath)
        }
        while flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw failure("cannot lock \(lockPath)")
        }
        return true
    }

    /// Why `lock` said no, and what to do.
    var heldDescription: String {
        """
        \(directory) is used by another running justgate (it holds \(directory)/outbox.lock); give each gateway an \
        outbox.path of its own (several gateways share one outbox only with backend: redis), or start this one \
        with --replace to take the outbox over when that one stops
        """
    }

    /// The segment numbers present, oldest first.
    func numbers() -> [Int] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var found: [Int] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("segment-"), name.hasSuffix(".log") else { continue }
            if let number = Int(name.dropFirst(8).dropLast(4)), number > 0 { found.append(number) }
        }
        return found.sorted()
    }

    /// The whole content of a segment.
    func read(_ number: Int) throws(Failure) -> [UInt8] {
        let path = path(of: number)
        try refuseUnlessRegular(path)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { _ = Glibc.close(fd) }
        try refuseUnlessRegular(fd, path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw failure("cannot read \(path)")
            }
        }
    }

    /// Cuts a segment to its whole records (a torn tail after a crash), synced at once.
    func truncate(_ number: Int, to length: Int) throws(Failure) {
        let path = path(of: number)
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { _ = Glibc.close(fd) }
        try refuseUnlessRegular(fd, path)
        guard ftruncate(fd, off_t(length)) == 0 else { throw failure("cannot truncate \(path)") }
        guard fdatasync(fd) == 0 else { throw failure("cannot sync \(path)") }
    }

    /// Opens segment `number` for appending (creating it 0600), and makes its name durable.
    func openLive(_ number: Int) throws(Failure) {
        if liveFD >= 0 { _ = Glibc.close(liveFD) }
        liveFD = -1
        let path = path(of: number)
        try refuseUnlessRegular(path)
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
        guard opened >= 0 else { throw failure("cannot open \(path)") }
        var info = stat()
        guard fstat(opened, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            _ = Glibc.close(opened)
            throw Failure(description: "\(path) is not a regular file; move it away, or set outbox.path to another directory")
        }
        if info.st_mode & 0o077 != 0 { _ = fchmod(opened, 0o600) }
        liveFD = opened
        liveNumber = number
        liveSize = Int(info.st_size)
        try syncDirectory()
    }

    /// Appends all of `bytes` to the live segment. On failure the segment is cut back to where it was, so a
    /// half-written record can never sit before later whole ones.
    func append(_ bytes: [UInt8]) throws(Failure) {
        let before = liveSize
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                write(liveFD, raw.baseAddress.map { $0 + written }, raw.count - written)
            }
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                let problem = failure("cannot write to \(path(of: liveNumber))")
                _ = ftruncate(liveFD, off_t(before))
                throw problem
            }
        }
        liveSize += written
    }

    /// Cuts the live segment back to `length` (where a failed batch began) and syncs the cut, so records whose
    /// callers were told "not kept" can never reach the disk later and be replayed as duplicates.
    func cutLive(to length: Int) throws(Failure) {
        guard ftruncate(liveFD, off_t(length)) == 0 else { throw failure("cannot truncate \(path(of: liveNumber))") }
        liveSize = length
        guard fdatasync(liveFD) == 0 else { throw failure("cannot sync \(path(of: liveNumber))") }
    }

    /// Forces the live segment's appended records to disk: one call for a whole batch of deferrals.
    func sync() throws(Failure) {
        guard fdatasync(liveFD) == 0 else { throw failure("cannot sync \(path(of: liveNumber))") }
    }

    /// Deletes a segment whose records are all superseded. A failed directory sync only means the segment
    /// may come back after a power cut, holding records that later ones supersede: nothing is lost.
    func remove(_ number: Int) {
        _ = unlink(path(of: number))
        try? syncDirectory()
    }

    func close() {
        if liveFD >= 0 { _ = Glibc.close(liveFD) }
        liveFD = -1
        if lockFD >= 0 { _ = Glibc.close(lockFD) }
        lockFD = -1
    }

    /// Makes the directory's entries (a new segment's name) durable. It throws, since a new segment whose name
    /// never reached the disk loses every record acknowledged in it at a power cut.
    private func syncDirectory(_ path: String? = nil) throws(Failure) {
        let path = path ?? directory
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open directory \(path) to sync it") }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync directory \(path)") }
    }

    /// Refuses a directory that group or others may write to, or that another user owns.
    private func checkDirectory() throws(Failure) {
        var info = stat()
        guard stat(directory, &info) == 0 else { throw failure("cannot stat \(directory)") }
        if info.st_mode & (S_IWOTH | S_IWGRP) != 0 {
            throw Failure(description: """
                the outbox directory \(directory) is writable by group or others (mode \(AuditFile.octal(info.st_mode))): \
                they could replace or remove deferred calls; run chmod 700 \(directory), or set outbox.path to a \
                directory of the gateway's own
                """)
        }
        if info.st_uid != geteuid() {
            throw Failure(description: """
                the outbox directory \(directory) belongs to uid \(info.st_uid), not to the gateway's user (uid \
                \(geteuid())): its owner could replace or remove deferred calls; run chown to the gateway's user, or \
                set outbox.path to a directory of the gateway's own
                """)
        }
    }

    /// Refuses what `fd` (opened at `path`) turned out to be when it is not a regular file.
    private func refuseUnlessRegular(_ fd: Int32, _ path: String) throws(Failure) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat \(path)") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(path) is not a regular file; move it away, or set outbox.path to another directory")
        }
    }

    private func refuseUnlessRegular(_ path: String) throws(Failure) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG else { return }
        throw Failure(description: """
            \(path) is not a regular file (a symbolic link or other); the outbox writes only regular files of its \
            own: move it away, or set outbox.path to another directory
            """)
    }

    private func makeDirectory(_ path: String) throws(Failure) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw Failure(description: "\(path) exists and is not a directory; set outbox.path to a directory")
            }
            return
        }
        let parent: String? = if let slash = path.lastIndex(of: "/") {
            slash == path.startIndex ? "/" : String(path[..<slash])
        } else { nil }
        if let parent, parent != "/" { try makeDirectory(parent) }
        guard mkdir(path, 0o700) == 0 else {
            if errno == EEXIST { return }
            throw failure("cannot create directory \(path)")
        }
        // The new directory's name must reach the disk too, or a power cut loses it with every segment in it.
        try syncDirectory(parent ?? ".")
    }

    private func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno))); check outbox.path and its permissions")
    }
}
