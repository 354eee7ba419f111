#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// Start-up: continue the chain from the last record on disk, and say so when the last line was torn.
extension AuditWriter {
    struct Resumed {
        var chain: AuditChain
        /// Records to write before any request's: a `chain_start` for a new log, a `chain_restart` after a torn line.
        var firstRecords: [AuditRecord]
        var notices: [String]
    }

    static func resume(_ file: AuditFile, hasher: AuditHasher) throws(AuditFile.Failure) -> Resumed {
        let signing = AuditSigning(keyed: hasher.isKeyed)
        let now = AuditTime.format(unixMillis: wallClockMillis())
        // The newest file that holds anything: the live one, or the last rotated one when the live file is new.
        let newest = file.orderedFiles().reversed().first { path in
            var info = stat()
            return lstat(path, &info) == 0 && info.st_size > 0
        }
        guard let newest else {
            var start = AuditRecord(time: now, event: .chainStart)
            start.note = "a new audit log; \(signing.declaration)"
            return Resumed(chain: AuditChain(hasher: hasher), firstRecords: [start],
                           notices: ["a new audit log at \(file.path); \(signing.declaration)"])
        }
        let (tailBytes, newlines) = try AuditFile.readTail(newest)
        let tail: AuditTail
        do {
            tail = try AuditTail(tail: tailBytes, newlinesInFile: newlines)
        } catch {
            throw AuditFile.Failure(description: """
                \(newest):\(newlines): the last complete line is not an audit record (\(error.message)); move the file \
                aside (justgate will start a new log) or restore it from a backup
                """)
        }
        let last = tail.lastRecord
        let chain = AuditChain(hasher: hasher, lastSeq: last?.seq ?? 0, lastHash: last?.hash ?? AuditChain.genesis)
        var notices: [String] = []
        if let last, AuditTail.lastLineIsSigned(tailBytes, by: hasher) == false {
            // The chain goes on regardless (refusing would take the gateway down); `verify` will name the break.
            notices.append("""
                the last record of \(newest) (seq \(last.seq)) is not signed as this gateway signs (\(signing.declaration)): \
                the log was written with another key or none, or it was rewritten; run justgate audit verify with the key
                """)
        }
        guard tail.tornBytes > 0 else {
            return Resumed(chain: chain, firstRecords: [], notices: notices)
        }
        // End the torn line so the next record starts on a line of its own; the torn bytes stay as evidence.
        var written = 0
        if newest == file.path {
            try file.append([0x0A][...], written: &written)
        } else {
            try AuditFile.endTornLine(newest)
        }
        let torn = "\(newest):\(tail.nextLine)"
        var restart = AuditRecord(time: now, event: .chainRestart)
        restart.note = "line \(tail.nextLine) of \(newest) was torn (\(tail.tornBytes) bytes, a crash mid-write); the chain continues from seq \(last?.seq ?? 0); \(signing.declaration)"
        return Resumed(chain: chain, firstRecords: [restart],
                       notices: notices + ["torn last line at \(torn) (\(tail.tornBytes) bytes, a crash mid-write); a chain_restart record follows it"])
    }

    static func wallClockMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
