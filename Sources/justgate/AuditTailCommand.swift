#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import JustGateCore
import JustGateAuditReview

/// `justgate audit tail [-f]`: the newest records, and with -f the ones that follow as they are written.
struct AuditTailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the last records of the live audit file; with -f, keep printing new ones.",
        discussion: """
            Follows the live file across rotation (when it is renamed, the rest of it is read and the new \
            file followed). Stop with Ctrl-C. Takes the same filters as query: -n counts matching records.

            Example: justgate audit tail -f --dir var/audit --format table --site horoscope-daily --status 5xx
            """
    )

    @OptionGroup var source: AuditSourceOptions
    @OptionGroup var filters: AuditFilterOptions
    @OptionGroup var events: AuditEventOption

    @Flag(name: .short, help: "Keep printing records as they are written.")
    var follow = false

    @Option(name: [.customShort("n"), .long], help: "How many of the last records to print first.")
    var lines: Int = 10

    @Option(help: "jsonl (the stored lines) or table.")
    var format: AuditOutputFormat = .jsonl

    func run() throws {
        let path: String
        let filter: AuditFilter
        do throws(AuditInputError) {
            filter = try events.applied(to: filters.filter())
            guard let live = try source.files().last else { throw AuditInputError("no audit file found") }
            path = live
        } catch {
            throw error.exit()
        }
        var output = StandardOutput()
        if format == .table { output.write(AuditTableLine.header) }
        var follower = LiveFileFollower(path: path)
        var last: [[UInt8]] = []
        do throws(AuditInputError) {
            try follower.readAvailable { line, number throws(AuditInputError) in
                guard try matches(line, filter, at: "\(path):\(number)") else { return }
                last.append(Array(line))
                if last.count > max(0, lines) { last.removeFirst() }
            }
            for line in last { try print(line[...], at: path, to: &output) }
        } catch {
            output.flush()
            throw error.exit()
        }
        output.flush()
        guard follow else { return }
        while true {
            do throws(AuditInputError) {
                try follower.readAvailable { line, number throws(AuditInputError) in
                    guard try matches(line, filter, at: "\(path):\(number)") else { return }
                    try print(line, at: "\(path):\(number)", to: &output)
                }
            } catch {
                output.flush()
                throw error.exit()
            }
            output.flush()
            usleep(200_000)
            follower.reopenIfRotated()
        }
    }

    /// Whether a line passes the filters. Chain records pass only a filter that asks for nothing, as before
    /// filters existed; a line that is not a record is left to `print` to report.
    private func matches(_ line: ArraySlice<UInt8>, _ filter: AuditFilter, at location: String) throws(AuditInputError) -> Bool {
        guard filter != AuditFilter.everyRequest else { return true }
        do throws(AuditRecordDecoding.Failure) {
            return filter.matches(try AuditRecordDecoding.decode(line))
        } catch {
            throw AuditInputError("\(location): \(error.message); is this an audit log?")
        }
    }

    private func print(_ line: ArraySlice<UInt8>, at location: String, to output: inout StandardOutput) throws(AuditInputError) {
        switch format {
        case .jsonl:
            output.write(line)
            output.write(CollectionOfOne(0x0A))
        case .table:
            do throws(AuditRecordDecoding.Failure) {
                output.write(AuditTableLine.line(try AuditRecordDecoding.decode(line)))
            } catch {
                throw AuditInputError("\(location): \(error.message); is this an audit log?")
            }
        }
    }
}

/// Reads a growing file from where it left off, and moves to the new file when the path is rotated.
struct LiveFileFollower {
    let path: String
    private var fd: Int32 = -1
    private var inode: ino_t = 0
    private var splitter = AuditLineSplitter()

    init(path: String) {
        self.path = path
        open()
    }

    /// Calls `body` with every complete line written since the last call.
    mutating func readAvailable(_ body: (ArraySlice<UInt8>, Int) throws(AuditInputError) -> Void) throws(AuditInputError) {
        guard fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            let tooLong = try buffer.withUnsafeBytes { raw in
                Result { () throws(AuditInputError) in
                    try splitter.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count]), body)
                }
            }.get()
            if let tooLong { throw AuditInputError("\(path):\(tooLong.line): a line longer than 1 MiB; is this an audit log?") }
        }
    }

    /// After rotation the path names a new file: the old one has been read to its end, so switch.
    mutating func reopenIfRotated() {
        var info = stat()
        guard stat(path, &info) == 0, info.st_ino != inode else { return }
        open()
    }

    private mutating func open() {
        if fd >= 0 { _ = close(fd) }
        fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        if fd >= 0 && fstat(fd, &info) == 0 { inode = info.st_ino }
        splitter.reset()
    }
}
