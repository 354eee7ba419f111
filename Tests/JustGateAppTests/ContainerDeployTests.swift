import Foundation
import JustGateCore
import Testing
import Yams

/// deploy/container/Dockerfile, deploy/compose.yaml and deploy/nginx/justgate.conf, checked as far as a
/// machine without a container engine can: the files parse, name only files that exist and agree with
/// each other, nginx accepts its config, and the runtime stage installs exactly the libraries the
/// binary needs according to `ldd`.
@Suite(.serialized)
struct ContainerDeployTests {
    static let deploy = SystemTools.repositoryRoot.appendingPathComponent("deploy")

    func compose() throws -> [String: Any] {
        let text = try SystemTools.text("deploy/compose.yaml")
        return try #require(try Yams.load(yaml: text) as? [String: Any], "compose.yaml is not a mapping")
    }

    func mapping(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    // MARK: - compose.yaml

    @Test func composeRunsTwoGatewaysSharingRedisBehindNginx() throws {
        let services = mapping(try compose()["services"])
        #expect(Set(services.keys) == ["justgate-1", "justgate-2", "redis", "nginx"])
        for name in ["justgate-1", "justgate-2"] {
            let service = mapping(services[name])
            #expect(service["read_only"] as? Bool == true, "\(name) must run on a read-only root")
            #expect(service["cap_drop"] as? [String] == ["ALL"])
            #expect(mapping(service["build"])["dockerfile"] as? String == "deploy/container/Dockerfile")
            #expect(mapping(mapping(service["depends_on"])["redis"])["condition"] as? String == "service_healthy")
            let volumes = service["volumes"] as? [String] ?? []
            #expect(volumes.count == 1 && volumes[0].hasSuffix(":/var/log/justgate"), "\(name): \(volumes)")
        }
        let nginxNeeds = mapping(mapping(services["nginx"])["depends_on"])
        for name in ["justgate-1", "justgate-2"] {
            #expect(mapping(nginxNeeds[name])["condition"] as? String == "service_healthy", "nginx must wait for \(name)'s /readyz")
        }
        let audit = [services["justgate-1"], services["justgate-2"]].map { (mapping($0)["volumes"] as? [String])?.first }
        #expect(audit[0] != audit[1], "two instances must not write one audit chain")
        let nginxPorts = mapping(services["nginx"])["ports"] as? [String] ?? []
        #expect(nginxPorts == ["127.0.0.1:8080:8080"])
    }

    @Test func everyFileComposeNamesExists() throws {
        let document = try compose()
        var named: [String] = []
        for section in ["configs", "secrets"] {
            for (_, entry) in mapping(document[section]) {
                if let file = mapping(entry)["file"] as? String { named.append(file) }
            }
        }
        for (_, service) in mapping(document["services"]) {
            let build = mapping(mapping(service)["build"])
            if let context = build["context"] as? String {
                named.append(context)
                if let dockerfile = build["dockerfile"] as? String { named.append(context + "/" + dockerfile) }
            }
        }
        #expect(named.count >= 4, "\(named)")
        for file in named {
            let url = URL(fileURLWithPath: file, relativeTo: Self.deploy).standardizedFileURL
            #expect(FileManager.default.fileExists(atPath: url.path), "compose.yaml names \(file), which does not exist")
        }
    }

    /// The gateways' healthcheck is `justgate health` on the admin listener, which Prometheus on the compose
    /// network can reach too: it listens off loopback (so it has a token hash), its port is exposed, and the
    /// token file the healthcheck reads is a compose secret. The Dockerfile's HEALTHCHECK is the same command.
    @Test func theGatewaysAreHealthcheckedThroughTheAdminListenerPrometheusCanReach() throws {
        let document = try compose()
        let configFile = try #require(mapping(mapping(document["configs"])["justgate-config"])["file"] as? String)
        let text = try String(contentsOf: URL(fileURLWithPath: configFile, relativeTo: Self.deploy), encoding: .utf8)
        let config = try ConfigLoader.load(yaml: ConfigPlaceholders.filled(text), knownOperations: Catalogue().ids).get().config
        let admin = try #require(config.adminListen, "the container config must set admin_listen")
        #expect(!admin.isLoopback, "Prometheus and the healthcheck reach it over the container network")
        #expect(config.adminTokenSHA256 != nil)
        let command = ["/usr/local/bin/justgate", "health", "--config", "/etc/justgate/justgate.yaml",
                       "--token-file", "/run/secrets/admin-token"]
        #expect(mapping(document["secrets"])["admin-token"] != nil)
        for name in ["justgate-1", "justgate-2"] {
            let service = mapping(mapping(document["services"])[name])
            let check = mapping(service["healthcheck"])
            #expect(check["test"] as? [String] == ["CMD"] + command, "\(name): \(check)")
            #expect((service["expose"] as? [String])?.contains(String(admin.port)) == true, "\(name) must expose \(admin.port)")
            #expect((service["secrets"] as? [String])?.contains("admin-token") == true)
        }
        let dockerfile = try SystemTools.text("deploy/container/Dockerfile").replacingOccurrences(of: "\\\n", with: " ")
        let healthcheck = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("HEALTHCHECK ") })
        let quoted = command.map { "\"\($0)\"" }.joined(separator: ", ")
        #expect(healthcheck.hasSuffix("CMD [\(quoted)]"), "\(healthcheck)")
        #expect(dockerfile.contains("EXPOSE 8080 \(admin.port)"))
    }

    /// The gateways' config counts limits in the compose file's Redis and reads tokens from its secrets.
    @Test func theGatewayConfigUsesComposesRedisAndSecrets() throws {
        let document = try compose()
        let configFile = try #require(mapping(mapping(document["configs"])["justgate-config"])["file"] as? String)
        let text = try String(contentsOf: URL(fileURLWithPath: configFile, relativeTo: Self.deploy), encoding: .utf8)
        let loaded = try ConfigLoader.load(yaml: ConfigPlaceholders.filled(text), knownOperations: Catalogue().ids).get()
        #expect(loaded.config.rateLimit.backend == .redis)
        let endpoint = try RedisEndpoint.parse(try #require(loaded.config.rateLimit.redisURL)).get()
        #expect(endpoint.description.contains("redis:6379"), "\(endpoint)")
        let secrets = Set(mapping(document["secrets"]).keys).subtracting(["admin-token"])
        let tokenFiles = loaded.config.sites.map { site -> String in
            if case .file(let path) = site.upstreamToken { return path }
            return "not a file: \(site.upstreamToken)"
        }
        #expect(Set(tokenFiles) == Set(secrets.map { "/run/secrets/\($0)" }))
        #expect(loaded.config.audit.path.hasPrefix("/var/log/justgate/"), "the audit file must be on the volume")
        #expect(!loaded.config.listen.isLoopback, "nginx reaches the gateways over the container network")
    }

    /// The gateways believe `X-Forwarded-For` from nginx's fixed compose address and from nothing else on the
    /// network (Prometheus, another container), so the audit names the site's address, not nginx's.
    @Test func theGatewaysTrustExactlyNginxsComposeAddress() throws {
        let document = try compose()
        let configFile = try #require(mapping(mapping(document["configs"])["justgate-config"])["file"] as? String)
        let text = try String(contentsOf: URL(fileURLWithPath: configFile, relativeTo: Self.deploy), encoding: .utf8)
        let loaded = try ConfigLoader.load(yaml: ConfigPlaceholders.filled(text), knownOperations: Catalogue().ids).get()
        let nginx = mapping(mapping(mapping(mapping(document["services"])["nginx"])["networks"])["default"])
        let address = try #require(nginx["ipv4_address"] as? String, "nginx needs a fixed address on the compose network")
        #expect(loaded.config.server.trustedProxies.map(\.description) == [address])
        let subnets = (mapping(mapping(mapping(document["networks"])["default"])["ipam"])["config"] as? [Any] ?? [])
            .compactMap { mapping($0)["subnet"] as? String }
        #expect(subnets == ["172.30.80.0/24"] && address.hasPrefix("172.30.80."), "\(subnets) \(address)")
    }

    // MARK: - nginx

    @Test func nginxAcceptsItsConfigAndProxiesToBothComposeServices() throws {
        let nginx = try SystemTools.require("nginx", package: "nginx")
        let conf = try SystemTools.text("deploy/nginx/justgate.conf")
        let services = mapping(try compose()["services"])
        for name in ["justgate-1", "justgate-2"] {
            #expect(conf.contains("server \(name):8080 "), "nginx does not proxy to \(name)")
            #expect(services[name] != nil)
        }
        let directory = try SystemTools.temporaryDirectory()
        // The compose host names resolve only inside compose: check the rest with loopback addresses.
        let local = conf.replacingOccurrences(of: "justgate-1:8080", with: "127.0.0.1:18081")
            .replacingOccurrences(of: "justgate-2:8080", with: "127.0.0.2:18082")
        try local.write(to: directory.appendingPathComponent("justgate.conf"), atomically: true, encoding: .utf8)
        try """
            pid nginx.pid;
            error_log stderr;
            events {}
            http { access_log off; include justgate.conf; }
            """.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let outcome = try SystemTools.run(nginx, ["-t", "-q", "-p", directory.path + "/", "-c", "nginx.conf"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }

    // MARK: - Dockerfile

    /// The runtime stage's `apt-get install` packages.
    func runtimePackages() throws -> (stage: String, packages: Set<String>) {
        let dockerfile = try SystemTools.text("deploy/container/Dockerfile").replacingOccurrences(of: "\\\n", with: " ")
        let stages = dockerfile.components(separatedBy: "\nFROM ")
        let runtime = try #require(stages.last)
        #expect(stages.count == 3, "a build stage and a runtime stage")
        var packages: Set<String> = []
        for line in runtime.split(separator: "\n") where line.contains("apt-get install") {
            let words = line.components(separatedBy: "apt-get install")[1].split(separator: " ")
            for word in words.prefix(while: { $0 != "&&" && $0 != ";" }) where !word.hasPrefix("-") {
                packages.insert(String(word))
            }
        }
        return (runtime, packages)
    }

    @Test func theRuntimeStageInstallsExactlyTheLibrariesLddReports() throws {
        let ldd = try SystemTools.require("ldd", package: "libc-bin")
        let dpkg = try SystemTools.require("dpkg", package: "dpkg")
        let dpkgQuery = try SystemTools.require("dpkg-query", package: "dpkg")
        let libraries = try RuntimeLibraries(binary: CommandLineTests.binary.path, ldd: ldd, dpkg: dpkg, dpkgQuery: dpkgQuery)
        #expect(libraries.libraries.allSatisfy { $0.path != nil },
                "ldd cannot find: \(libraries.libraries.filter { $0.path == nil }.map(\.name))")
        #expect(libraries.libraries.contains { $0.name == "libcurl.so.4" })
        let unowned = libraries.libraries.filter { !$0.isSwiftRuntime }.compactMap(\.path)
            .filter { libraries.packageByPath[$0] == nil }
        #expect(unowned.isEmpty, "no Debian package owns \(unowned)")

        // Not libraries: the trust store libcurl checks the upstream's certificate against.
        let notLibraries: Set<String> = ["ca-certificates"]
        let listed = try runtimePackages().packages
        #expect(notLibraries.isSubset(of: listed), "the runtime stage must install ca-certificates for TLS")
        let listedLibraries = listed.subtracting(notLibraries)
        #expect(listedLibraries == libraries.packagesToInstall,
                "runtime stage installs \(listedLibraries.sorted()); ldd says \(libraries.packagesToInstall.sorted())")
        let covered = libraries.closure(of: listedLibraries.union(RuntimeLibraries.baseImagePackages))
        let missing = libraries.neededPackages.subtracting(covered)
        #expect(missing.isEmpty, "the runtime image would lack \(missing.sorted())")
    }

    @Test func theSwiftRuntimeIsLinkedStaticallySoNoSwiftLibraryIsCopied() throws {
        let dockerfile = try SystemTools.text("deploy/container/Dockerfile")
        #expect(dockerfile.contains("--static-swift-stdlib"))
        #expect(!dockerfile.contains("/usr/lib/swift/linux/lib"), "no Swift runtime library is copied")
        let (runtime, _) = try runtimePackages()
        #expect(runtime.hasPrefix("${RUNTIME_IMAGE} AS runtime"))
        #expect(dockerfile.contains("ARG RUNTIME_IMAGE=debian:bookworm-slim"))
        #expect(dockerfile.contains("ARG SWIFT_IMAGE=swift:"))
    }

    /// `docker build` from a clean clone sees only what git tracks: every COPY source must be tracked (a file
    /// that exists here but is ignored, as Package.resolved once was, breaks the build elsewhere).
    @Test func theImageRunsAsAnUnprivilegedUserAndCopiesOnlyFilesGitTracks() throws {
        let dockerfile = try SystemTools.text("deploy/container/Dockerfile").replacingOccurrences(of: "\\\n", with: " ")
        let (runtime, _) = try runtimePackages()
        let user = runtime.split(separator: "\n").last { $0.hasPrefix("USER ") }
        #expect(user != nil && user?.contains("root") == false && user?.hasPrefix("USER 0") == false, "\(String(describing: user))")
        let git = try SystemTools.require("git", package: "git")
        let listed = try SystemTools.run(git, ["ls-files", "-z"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let tracked = listed.stdout.split(separator: "\0").map(String.init)
        var copied: [Substring] = []
        for line in dockerfile.split(separator: "\n") where line.hasPrefix("COPY ") && !line.contains("--from=") {
            copied += line.split(separator: " ").dropFirst().dropLast()
        }
        #expect(copied.contains("Package.resolved"), "the build pins its dependencies: \(copied)")
        for source in copied {
            let isTracked = tracked.contains { $0 == source || $0.hasPrefix(source + "/") }
            #expect(isTracked, "the Dockerfile copies \(source), which git does not track: a clean clone cannot build the image")
        }
        let ignored = try SystemTools.text(".dockerignore")
        #expect(ignored.contains(".build"), "the build context must not carry .build")
    }

    /// ldd output of every shape, so the check above reads all of it.
    @Test func lddLinesOfEveryShapeAreRead() {
        let libraries = RuntimeLibraries.parseLDD("""
            \tlinux-vdso.so.1 (0x00007ffd)
            \tlibcurl.so.4 => /lib/x86_64-linux-gnu/libcurl.so.4 (0x00007f5d)
            \tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x00007f5e)
            \tlibgone.so.1 => not found
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f5f)
            """)
        #expect(libraries.map(\.name) == ["libcurl.so.4", "libswiftCore.so", "libgone.so.1", "/lib64/ld-linux-x86-64.so.2"])
        #expect(libraries.map(\.path) == ["/lib/x86_64-linux-gnu/libcurl.so.4", "/opt/swift/usr/lib/swift/linux/libswiftCore.so",
                                          nil, "/lib64/ld-linux-x86-64.so.2"])
        #expect(libraries.map(\.isSwiftRuntime) == [false, true, false, false])
    }
}
