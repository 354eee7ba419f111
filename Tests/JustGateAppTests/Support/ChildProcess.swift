#if canImport(Glibc)
import Glibc
#endif
import CTestSupport
import Foundation

/// A child process started with `posix_spawn`, its stdout and stderr on pipes.
///
/// Foundation's `Process` occasionally reported a child that had not run (exit 0, reason 0, no
/// output) when many tests spawned processes at once; this does the few things the tests need
/// directly: spawn with close-on-exec pipes, read to end of file, wait, signal.
final class ChildProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// How a finished child ended: its output and its exit status (128 + signal when killed).
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let pid: pid_t
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var exitStatus: Int32?

    /// - Parameters:
    ///   - environment: the whole environment of the child; `nil` inherits this process's.
    ///   - directory: the child's working directory; `nil` keeps this process's.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard jg_test_pipe_cloexec(&outPipe) == 0 else { throw Failure(description: "pipe2: errno \(errno)") }
        guard jg_test_pipe_cloexec(&errPipe) == 0 else {
            outPipe.forEach { close($0) }
            throw Failure(description: "pipe2: errno \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies, so only these two ends reach the child.
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // And nothing else of this process: a test's socket opened without close-on-exec and inherited by a
        // child stays open after the test closes it (no FIN: the gateway never sees that client leave).
        jg_test_spawn_addclosefrom(&actions, 3)
        if let directory { jg_test_spawn_addchdir(&actions, directory) }

        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environmentLines.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw Failure(description: "posix_spawn \(executable): error \(spawned)")
        }
        pid = child
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
    }

    deinit {
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
    }

    /// Runs a command to its end.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: String? = nil) throws -> Outcome {
        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
        let (stdout, stderr) = child.readToEnd()
        return Outcome(status: child.wait(), stdout: stdout, stderr: stderr)
    }

    /// Reads stdout and stderr until both are closed (the child exited or closed them).
    func readToEnd() -> (stdout: String, stderr: String) {
        var out: [UInt8] = [], err: [UInt8] = []
        while stdoutFD >= 0 || stderrFD >= 0 {
            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) >= 0 || errno == EINTR else { break }
            if fds[0].revents != 0 { drain(&stdoutFD, into: &out) }
            if fds[1].revents != 0 { drain(&stderrFD, into: &err) }
        }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Reads stderr until `marker` appears, the stream ends, or `timeoutSeconds` pass; returns what was read.
    func readStderr(until marker: String, timeoutSeconds: Double) -> String {
        var err: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while stderrFD >= 0, !String(decoding: err, as: UTF8.self).contains(marker) {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard left > 0 else { break }
            var fd = pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)
            guard poll(&fd, 1, left) > 0 else { continue }
            drain(&stderrFD, into: &err)
        }
        return String(decoding: err, as: UTF8.self)
    }

    /// Reads stdout until `marker` appears, the stream ends, or `timeoutSeconds` pass; returns what was read.
    func readStdout(until marker: String, timeoutSeconds: Double) -> String {
        var out: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while stdoutFD >= 0, !String(decoding: out, as: UTF8.self).contains(marker) {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard left > 0 else { break }
            var fd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&fd, 1, left) > 0 else { continue }
            drain(&stdoutFD, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the child is still running (reaps it if it has just ended).
    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return true }
        exitStatus = ChildProcess.exitStatus(fromWaitStatus: status)
        return false
    }

    /// Sends `signal` to the child.
    func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Waits for the child to end; its exit status, or 128 + the signal that ended it.
    @discardableResult
    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let result = ChildProcess.exitStatus(fromWaitStatus: status)
        exitStatus = result
        return result
    }

    /// A `waitpid` status as a shell reports it: the exit code, or 128 + the signal that ended the child.
    private static func exitStatus(fromWaitStatus status: Int32) -> Int32 {
        let termination = status & 0x7F
        return termination == 0 ? (status >> 8) & 0xFF : 128 + termination
    }

    /// Reads what one pipe has now; closes it (and sets it to -1) at end of file.
    private func drain(_ fd: inout Int32, into bytes: inout [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = read(fd, &chunk, chunk.count)
        if count > 0 {
            bytes.append(contentsOf: chunk[0..<count])
        } else if count == 0 || errno != EINTR {
            close(fd)
            fd = -1
        }
    }
}
