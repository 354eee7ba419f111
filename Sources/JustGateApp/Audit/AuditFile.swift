#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// The audit log's files on disk: the live file (opened for append, mode 0600, in a directory of mode 0700),
/// its rotation into numbered files and the pruning of old ones. Used only by the writer thread.
final class AuditFile {
    /// Why a file operation failed, with the path and the system's reason.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    let directory: String
    let base: String
    let rotateBytes: Int
    private let keepFiles: Int
    private(set) var fd: Int32 = -1
    private(set) var size = 0
    private var inode: ino_t = 0
    /// The open `lockPath`, locked while this writer owns the log.
    private var lockFD: Int32 = -1
    /// What was found and mended on the way (a file whose mode let others read it), for the start-up log.
    var notices: [String] = []

    init(config: AuditConfig) {
        path = config.path
        let slash = config.path.lastIndex(of: "/")
        directory = slash.map { String(config.path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        base = slash.map { String(config.path[config.path.index(after: $0)...]) } ?? config.path
        rotateBytes = config.rotateBytes
        keepFiles = config.keepFiles
    }

    deinit { close() }

    /// `audit.jsonl.lock` beside the live file: whoever holds an exclusive `flock` on it writes the log. Two
    /// writers would interleave two chains in one file (each record's `prev` naming a record of the other),
    /// which `verify` then rightly calls broken. A file of its own rather than the live file, which rotation
    /// renames away; never a name the log's own files can have (`AuditFileNames`).
    var lockPath: String { directory + "/" + base + ".lock" }

    /// Takes the log's lock, creating the directory and the lock file if needed; false when another writer
    /// holds it (another process, or another writer of this one). Never blocks.
    ///
    /// A directory reached through a symbolic link is fine here: the lock file is opened through the same link,
    /// so two paths naming one directory name one lock file. The live file itself is locked as well (`open`).
    func lock() throws(Failure) -> Bool {
        try makeDirectory(directory)
        try AuditFile.checkDirectory(directory)
        if lockFD < 0 {
            try AuditFile.refuseUnlessRegular(lockPath)
            let opened = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
            guard opened >= 0 else { throw AuditFile.openFailure(lockPath) }
            lockFD = opened
        }
        while flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw failure("cannot lock \(lockPath)")
        }
        return true
    }

    /// Closes the live file and lets go of the lock, so another writer can take the log over.
    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        if lockFD >= 0 { _ = Glibc.close(lockFD) }
        lockFD = -1
    }

    /// Opens (creating the directory and the file if needed) the live file for appending: only a regular
    /// file of one name, never through a symbolic link, mode 0600, and locked (`flock` on the file itself, so a
    /// second writer reaching the same file by any other path is refused too). See `AuditFile+Hygiene`.
    func open() throws(Failure) {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        try makeDirectory(directory)
        try AuditFile.refuseUnlessRegular(path)
        let opened = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0o600)
        guard opened >= 0 else { throw AuditFile.openFailure(path) }
        var info = stat()
        guard fstat(opened, &info) == 0 else {
            _ = Glibc.close(opened)
            throw failure("cannot stat \(path)")
        }
        do throws(Failure) {
            try secureLiveFile(opened, info)
        } catch {
            _ = Glibc.close(opened)
            throw error
        }
        fd = opened
        size = Int(info.st_size)
        inode = info.st_ino
    }

    /// Whether the path still names the file we write to; it does not after someone moved or removed it.
    var isStillInPlace: Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_ino == inode
    }

    /// Appends all of `bytes`; on failure the file may hold a prefix of them and `written` says how many.
    func append(_ bytes: ArraySlice<UInt8>, written: inout Int) throws(Failure) {
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
            }
            if result > 0 {
                written += result
                size += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                throw failure("cannot write to \(path)")
            }
        }
    }

    /// Forces what was appended to disk. `fdatasync`: the data and the size that makes it readable, without
    /// also journaling the modification time for every sync.
    func sync() {
        if fd >= 0 { _ = fdatasync(fd) }
    }

    var needsRotation: Bool { size >= rotateBytes }

    /// Renames the live file to the next number, opens a fresh live file and deletes files beyond `keepFiles`.
    func rotate() throws(Failure) {
        sync()
        let names = listDirectory()
        let numbers = names.compactMap { AuditFileNames.rotationNumber(of: $0, base: base) }
        let next = (numbers.max() ?? 0) + 1
        let target = directory + "/" + AuditFileNames.rotated(base, number: next)
        guard rename(path, target) == 0 else { throw failure("cannot rename \(path) to \(target)") }
        try open()
        if keepFiles > 0 {
            for number in (numbers + [next]).sorted().dropLast(keepFiles) {
                _ = unlink(directory + "/" + AuditFileNames.rotated(base, number: number))
            }
        }
    }

    /// The files of this log, oldest first, live file last.
    func orderedFiles() -> [String] {
        AuditFileNames.ordered(listDirectory(), base: base).map { directory + "/" + $0 }
    }

    private func listDirectory() -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }

    private func makeDirectory(_ path: String) throws(Failure) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "\(path) exists and is not a directory") }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]))
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw failure("cannot create directory \(path)") }
    }

    func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}

/// Reading the end of an audit file, for resuming the chain at start-up.
extension AuditFile {
    /// How much of a file's end is read to find its last record.
    static let tailWindow = 256 * 1024

    /// Ends the torn last line of a rotated file (a crash between rotation and the first write), so the
    /// `chain_restart` record in the live file reports a line that stands on its own.
    static func endTornLine(_ path: String) throws(Failure) {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw openFailure(path) }
        defer { _ = Glibc.close(fd) }
        var newline: UInt8 = 0x0A
        guard write(fd, &newline, 1) == 1 else { throw Failure(description: "cannot write to \(path): \(String(cString: strerror(errno)))") }
    }

    /// The last `tailWindow` bytes of `path` and the number of newlines in the whole file.
    static func readTail(_ path: String) throws(Failure) -> (tail: [UInt8], newlines: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw openFailure(path) }
        defer { _ = Glibc.close(fd) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var window: [UInt8] = []
        var newlines = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            let slice = chunk[0..<count]
            newlines += slice.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            window.append(contentsOf: slice)
            if window.count > tailWindow { window.removeFirst(window.count - tailWindow) }
        }
        return (window, newlines)
    }
}
