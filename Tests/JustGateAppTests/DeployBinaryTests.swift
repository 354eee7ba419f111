#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import JustGateCore
import Testing

/// dist/justgate (`make dist`), the binary deploy/README.md installs on a server, run as it would run
/// there: with the Swift toolchain absent. `unshare --mount` gives the child a mount namespace of its own
/// in which a tmpfs covers the directory the Swift runtime libraries live in (the debug build's RUNPATH),
/// so a binary that still needed libswiftCore.so could not start. `make test` builds dist/ first.
@Suite(.serialized)
struct DeployBinaryTests {
    static let dist = SystemTools.repositoryRoot.appendingPathComponent("dist/justgate").path
    static let siteKey = "deploy-binary-site-key-0123456789abcdefghij"

    /// The directory the debug build loads libswiftCore.so from (/opt/swift/usr/lib/swift/linux here).
    func swiftRuntimeDirectory() throws -> String {
        let ldd = try SystemTools.require("ldd", package: "libc-bin")
        let outcome = try SystemTools.run(ldd, [CommandLineTests.binary.path])
        let core = try #require(RuntimeLibraries.parseLDD(outcome.stdout).first { $0.name == "libswiftCore.so" }?.path,
                                "the debug build no longer links libswiftCore.so dynamically: \(outcome.stdout)")
        return URL(fileURLWithPath: core).deletingLastPathComponent().path
    }

    /// `unshare` arguments that run `command` with a tmpfs over the Swift runtime directory. As root a mount
    /// namespace is enough; otherwise a user namespace maps the caller to root inside it.
    func hidingTheToolchain(_ command: [String]) throws -> (executable: String, arguments: [String]) {
        let unshare = try SystemTools.require("unshare", package: "util-linux")
        let namespaces = getuid() == 0 ? ["--mount"] : ["--mount", "--map-root-user"]
        let script = "mount -t tmpfs justgate-no-toolchain \"$0\" && exec \"$@\""
        return (unshare, namespaces + ["sh", "-c", script, try swiftRuntimeDirectory()] + command)
    }

    func runHidingTheToolchain(_ command: [String]) throws -> ChildProcess.Outcome {
        let (executable, arguments) = try hidingTheToolchain(command)
        return try ChildProcess.run(executable, arguments, directory: SystemTools.repositoryRoot.path)
    }

    /// config/justgate.yaml (sandbox upstream, demo tokens) with free ports, absolute paths and a known site key.
    func demoConfig(in directory: URL) throws -> String {
        var yaml = try SystemTools.text("config/justgate.yaml")
        let demoTokens = SystemTools.repositoryRoot.appendingPathComponent("config/demo-tokens").path
        let replacements = [
            ("listen: 127.0.0.1:8080", "listen: 127.0.0.1:0"),
            ("admin_listen: 127.0.0.1:9090", "admin_listen: 127.0.0.1:\(try FreePort.pick())"),
            ("{ file: demo-tokens", "{ file: \(demoTokens)"),
            ("path: ../var/audit/audit.jsonl", "path: \(directory.path)/audit/audit.jsonl"),
            ("\"b073c9de98d76b3b3b94818f9eefd76881e9d41d65294791c30064740f8d765c\"", "\"\(SiteKeys.sha256Hex(Self.siteKey))\""),
        ]
        for (old, new) in replacements {
            #expect(yaml.contains(old), "config/justgate.yaml no longer has \(old)")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        let config = directory.appendingPathComponent("justgate.yaml").path
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    func requireDist() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.dist) else {
            Issue.record("dist/justgate is missing: run `make dist` (make test does this first)")
            throw ChildProcess.Failure(description: "no dist/justgate")
        }
    }

    /// The check below is only worth something if hiding the directory stops a toolchain-bound binary.
    @Test func theDebugBuildCannotStartWithTheToolchainHidden() throws {
        let outcome = try runHidingTheToolchain([CommandLineTests.binary.path, "--version"])
        #expect(outcome.status != 0)
        // The first Swift library the loader looks for (libswiftSwiftOnoneSupport.so in a debug build).
        #expect(outcome.stderr.contains("libswift") && outcome.stderr.contains("cannot open shared object file"), "\(outcome.stderr)")
    }

    @Test func theDistBinaryStartsAndChecksAConfigWithoutTheToolchain() throws {
        try requireDist()
        let version = try runHidingTheToolchain([Self.dist, "--version"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == JustGateVersion.current)
        let help = try runHidingTheToolchain([Self.dist, "--help"])
        #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS"), "\(help.stdout)\(help.stderr)")
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-dist")
        defer { try? FileManager.default.removeItem(at: directory) }
        let check = try runHidingTheToolchain([Self.dist, "check-config", "--config", try demoConfig(in: directory)])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("OK ("), "\(check.stdout)")
        let ldd = try SystemTools.require("ldd", package: "libc-bin")
        let libraries = RuntimeLibraries.parseLDD(try SystemTools.run(ldd, [Self.dist]).stdout)
        #expect(!libraries.contains { $0.isSwiftRuntime }, "dist/justgate still links \(libraries.filter(\.isSwiftRuntime).map(\.name))")
    }

    /// The whole gateway: it serves a request through libcurl to its embedded sandbox, and `justgate health`
    /// finds it ready, all with the toolchain hidden from it.
    @Test func theDistBinaryServesWithoutTheToolchain() throws {
        try requireDist()
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-dist")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try demoConfig(in: directory)

        let (executable, arguments) = try hidingTheToolchain([Self.dist, "serve", "--config", config])
        let serve = try ChildProcess(executable, arguments, directory: directory.path)
        var log = serve.readStderr(until: "justgate started", timeoutSeconds: 10)
        defer {
            serve.signal(SIGTERM)
            _ = serve.wait()
        }
        let port = try #require(log.range(of: "\"listen\":\"127.0.0.1:").flatMap { Int(log[$0.upperBound...].prefix { $0.isNumber }) },
                                "dist/justgate did not start without the toolchain: \(log)")
        let body = "ip=8.8.8.8"
        let response = try RawHTTPClient(port: port).exchange(
            "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(Self.siteKey)\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(response.status == 200, "\(response.status) \(response.text)")
        let health = try runHidingTheToolchain([Self.dist, "health", "--config", config])
        #expect(health.status == 0, "\(health.stdout)\(health.stderr)")
        serve.signal(SIGTERM)
        log += serve.readToEnd().stderr
        #expect(serve.wait() == 0, "\(log)")
    }
}
