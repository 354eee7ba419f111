#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// The file backend's files: `segment-<number>.log` under `outbox.path`, whose records are written one after
/// the other and never edited, and `outbox.lock`, held while a gateway owns the directory. Used by the store's
/// writer thread (and at open).
///
/// The live segment is zero-filled ahead of its records (`prepare`, a megabyte at a time, written as real zero
/// bytes) and records are written into those zeros in place (`pwrite`). Why: a `fdatasync` after an append that
/// grows the file must also make the new size durable, a metadata write besides the data (on ext4 without a
/// journal, as on the bench VM, the inode's block: 3.3 block requests per sync instead of 2; with a journal, a
/// journal commit and its flushes: 9,907 commits for 11,174 syncs, against 27 in place), each request a VM exit
/// on a virtual disk, and that was most of a deferral's CPU at a few deferrals per batch (bench/outbox/cost.sh).
/// Overwriting blocks that are already allocated and written changes no metadata `fdatasync` must keep (only the
/// modification time, which it skips), so the sync writes the data and flushes; the size is made durable once
/// per megabyte, by the batch after a `prepare`. `fallocate` would not do: its blocks are unwritten extents, and
/// writing into one converts it, a metadata change that brings the metadata write back. The zero tail ends
/// replay unambiguously (a record's length is never 0: `OutboxRecordCodec`); it is cut from the newest segment
/// at start like a torn tail, from a segment being closed for a new one before that one is begun (so only the
/// newest segment ever ends in zeros, and a bad record in an older one is still damage), and from the live
/// segment when the gateway stops.
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
    /// Where the live segment's records end: the next record is written here.
    private(set) var liveSize = 0
    /// The live segment's file size: every byte from `liveSize` up to it is a zero that `prepare` wrote.
    private(set) var preparedSize = 0
    /// How much `prepare` zero-fills at a time by default: one metadata write per this much of records.
    static let defaultPrepareBytes = 1 << 20
    /// How much `prepare` zero-fills at a time; 0 writes no room (every batch grows the file).
    let prepareBytes: Int

    init(directory: String, prepareBytes: Int = OutboxSegmentFiles.defaultPrepareBytes) {
        self.directory = directory
        self.prepareBytes = max(0, prepareBytes)
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

    /// Opens segment `number` for writing records at its end (creating it 0600), and makes its name durable.
    func openLive(_ number: Int) throws(Failure) {
        if liveFD >= 0 { _ = Glibc.close(liveFD) }
        liveFD = -1
        let path = path(of: number)
        try refuseUnlessRegular(path)
        let opened = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
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
        preparedSize = liveSize
        try syncDirectory()
    }

    /// Writes all of `bytes` at the end of the live segment's records (into the zeros `prepare` wrote, or past
    /// them, growing the file). On failure the segment is cut back to where it was, so a half-written record can
    /// never sit before later whole ones.
    func append(_ bytes: [UInt8]) throws(Failure) {
        let before = liveSize
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                pwrite(liveFD, raw.baseAddress.map { $0 + written }, raw.count - written, off_t(before + written))
            }
            if result > 0 {
                written += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                let problem = failure("cannot write to \(path(of: liveNumber))")
                if ftruncate(liveFD, off_t(before)) == 0 { preparedSize = before }
                throw problem
            }
        }
        liveSize += written
        preparedSize = max(preparedSize, liveSize)
    }

    /// Cuts the live segment back to `length` (where a failed batch began) and syncs the cut, so records whose
    /// callers were told "not kept" can never reach the disk later and be replayed as duplicates. The zeros
    /// after it go too (the next `prepare` writes them again): a cut that only zeroed the failed records would be
    /// one more write to a disk that just failed one.
    func cutLive(to length: Int) throws(Failure) {
        guard ftruncate(liveFD, off_t(length)) == 0 else { throw failure("cannot truncate \(path(of: liveNumber))") }
        liveSize = length
        preparedSize = length
        guard fdatasync(liveFD) == 0 else { throw failure("cannot sync \(path(of: liveNumber))") }
    }

    /// Forces the live segment's new records to disk: one call for a whole batch of deferrals.
    func sync() throws(Failure) {
        guard fdatasync(liveFD) == 0 else { throw failure("cannot sync \(path(of: liveNumber))") }
    }

    /// Zero-fills the live segment ahead of its records when less than half of `prepareBytes` of zeros is left,
    /// up to `limit` (the segment size: zeros past it would only be cut when the segment is closed). Not synced
    /// here: the next batch's `fdatasync` makes the zeros and the new size durable with its records, the one
    /// metadata write per `prepareBytes`. A failure (a full disk) is not reported: the records are then written
    /// past the zeros, growing the file as without them, and fail there if the disk is really full.
    func prepare(limit: Int) {
        guard liveFD >= 0, prepareBytes > 0, preparedSize - liveSize < prepareBytes / 2, preparedSize < limit else {
            return
        }
        let end = min(limit, max(preparedSize, liveSize) + prepareBytes)
        while preparedSize < end {
            let result = Self.zeros.withUnsafeBytes { raw in
                pwrite(liveFD, raw.baseAddress, min(raw.count, end - preparedSize), off_t(preparedSize))
            }
            if result > 0 {
                preparedSize += result
            } else if !(result < 0 && errno == EINTR) {
                return
            }
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    /// Cuts the zeros after the live segment's records and syncs the cut: before the segment is closed for a new
    /// one (so an older segment never ends in zeros, and a bad record in one is always damage) and when the
    /// gateway stops (a stopped outbox's files hold records only).
    func trimLive() throws(Failure) {
        guard liveFD >= 0, preparedSize > liveSize else { return }
        guard ftruncate(liveFD, off_t(liveSize)) == 0 else { throw failure("cannot truncate \(path(of: liveNumber))") }
        preparedSize = liveSize
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
