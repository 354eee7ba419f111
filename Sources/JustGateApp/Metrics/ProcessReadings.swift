#if canImport(Glibc)
import Glibc
#endif

/// The process's CPU time, memory, descriptors and start time, read from `/proc/self` at scrape time and
/// exported under the standard `process_*` names, so the dashboards and alerts written for any Prometheus
/// client (a leak of descriptors, a climbing RSS, a restart) work on justgate unchanged.
///
/// Computed the way client_golang's procfs collector does: CPU is `utime + stime` of `/proc/self/stat` over
/// the clock tick rate; RSS is its `rss` field times the page size; the start time is the boot time
/// (`btime` of `/proc/stat`) plus its `starttime` in ticks. A file that cannot be read leaves its value nil,
/// and that metric keeps its previous value rather than failing the scrape.
struct ProcessReadings: Equatable {
    var cpuSeconds: Double?
    var residentBytes: Double?
    var openFileDescriptors: Double?
    var maxFileDescriptors: Double?
    var startTimeSeconds: Double?

    /// The values now, from `/proc`.
    static func current() -> ProcessReadings {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var readings = ProcessReadings()
        if let stat = readSmallFile("/proc/self/stat").flatMap(StatFields.init), ticks > 0 {
            readings.cpuSeconds = Double(stat.userTicks + stat.systemTicks) / ticks
            readings.residentBytes = Double(stat.residentPages) * pageSize
            if let boot = readSmallFile("/proc/stat").flatMap(bootTime) {
                readings.startTimeSeconds = Double(boot) + Double(stat.startTicks) / ticks
            }
        }
        readings.openFileDescriptors = countEntries("/proc/self/fd").map(Double.init)
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            readings.maxFileDescriptors = limit.rlim_cur == rlim_t.max ? nil : Double(limit.rlim_cur)
        }
        return readings
    }

    /// The fields of `/proc/self/stat` the metrics need. The second field is the command name in parentheses
    /// and may itself hold spaces or parentheses, so fields are counted from after its last `)`.
    struct StatFields: Equatable {
        var userTicks: UInt64
        var systemTicks: UInt64
        var startTicks: UInt64
        var residentPages: UInt64

        init?(_ text: String) {
            guard let close = text.lastIndex(of: ")") else { return nil }
            // After `)`: field 3 (state) is index 0, so field N is index N - 3.
            let fields = text[text.index(after: close)...].split(separator: " ")
            func field(_ number: Int) -> UInt64? {
                number - 3 < fields.count ? UInt64(fields[number - 3]) : nil
            }
            guard let user = field(14), let system = field(15), let start = field(22), let rss = field(24) else { return nil }
            (userTicks, systemTicks, startTicks, residentPages) = (user, system, start, rss)
        }
    }

    /// `btime` of `/proc/stat`: when the machine booted, in Unix seconds.
    static func bootTime(_ text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return line.split(separator: " ").last.flatMap { UInt64($0) }
        }
        return nil
    }

    /// A `/proc` file's text. Their size shows as 0, so this reads until end of file, up to 64 KiB.
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65_536 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Entries of a directory other than `.` and `..` (the descriptor reading it counts too, as in every client).
    private static func countEntries(_ path: String) -> Int? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return count
    }
}
