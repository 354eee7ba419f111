import Foundation
import JustGateCore
import Testing

/// deploy/compose.yaml's layout without a container engine: two real `justgate serve` processes on the
/// deploy config (deploy/container/justgate.yaml, only addresses, tokens and the upstream changed),
/// a real redis-server, and a real nginx on deploy/nginx/justgate.conf in front. The limits hold for
/// both gateways together, the request id passes through nginx, and compose's healthcheck command
/// (`justgate health` with the admin token from a secret file) finds both gateways ready.
@Suite(.serialized)
struct ComposeTopologyTests {
    static let siteKey = "compose-topology-key-0123456789abcdefghijkl"
    static let adminToken = "compose-topology-admin-token-0123456789abcd"
    /// nginx's address towards the gateways, the one `server.trusted_proxies` lists.
    static let nginxAddress = "127.0.0.3"
    /// The site's address: not a trusted proxy, so it is the client the audit records name.
    static let siteAddress = "127.0.0.4"

    func mapping(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    /// The deploy config with this machine's addresses in place of the compose network's.
    func gatewayConfig(redis: RedisServer, directory: URL, instance: Int) throws -> String {
        var yaml = try SystemTools.text("deploy/container/justgate.yaml")
        let replacements = [
            ("listen: 0.0.0.0:8080", "listen: 127.0.0.1:0"),
            // Loopback here: the machine running the tests is not a container network.
            ("admin_listen: 0.0.0.0:9090", "admin_listen: 127.0.0.1:\(try FreePort.pick())"),
            ("\"0000000000000000000000000000000000000000000000000000000000000009\"", "\"\(SiteKeys.sha256Hex(Self.adminToken))\""),
            ("url: https://api.justservices.cc", "url: sandbox"),
            ("redis://redis:6379/0", redis.url),
            // A debug build on a busy test machine can take longer than the 5 ms a production Redis
            // call is given; with the deployed 5 ms a slow reply falls back to per-gateway counts.
            ("redis_timeout_ms: 5", "redis_timeout_ms: 500"),
            ("/run/secrets/", directory.path + "/"),
            ("/var/log/justgate/audit.jsonl", directory.path + "/audit-\(instance)/audit.jsonl"),
            ("\"0000000000000000000000000000000000000000000000000000000000000001\"", "\"\(SiteKeys.sha256Hex(Self.siteKey))\""),
            // nginx's compose address; here nginx connects from 127.0.0.3 (`proxy_bind`, see startNginx).
            ("- 172.30.80.10", "- \(Self.nginxAddress)"),
        ]
        for (old, new) in replacements {
            #expect(yaml.contains(old), "deploy/container/justgate.yaml no longer has \(old)")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        yaml = ConfigPlaceholders.filled(yaml)
        let path = directory.appendingPathComponent("justgate-\(instance).yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    /// nginx on deploy/nginx/justgate.conf, its upstreams pointed at the two gateways.
    func startNginx(_ executable: String, directory: URL, gatewayPorts: [Int], port: Int) throws -> ChildProcess {
        // nginx's prefix: its temporary files go to directory/ and its default error log to logs/.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        var conf = try SystemTools.text("deploy/nginx/justgate.conf")
        for (index, gatewayPort) in gatewayPorts.enumerated() {
            conf = conf.replacingOccurrences(of: "justgate-\(index + 1):8080", with: "127.0.0.1:\(gatewayPort)")
        }
        conf = conf.replacingOccurrences(of: "listen 8080;", with: "listen 127.0.0.1:\(port);")
        // On loopback every process is 127.0.0.1: nginx connects from an address of its own, as in compose.
        #expect(conf.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"))
        conf = conf.replacingOccurrences(of: "proxy_pass http://justgate;",
                                         with: "proxy_pass http://justgate;\n        proxy_bind \(Self.nginxAddress);")
        try conf.write(to: directory.appendingPathComponent("justgate.conf"), atomically: true, encoding: .utf8)
        try """
            daemon off;
            pid nginx.pid;
            error_log stderr;
            events {}
            http { access_log off; include justgate.conf; }
            """.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let process = try ChildProcess(executable, ["-p", directory.path + "/", "-c", "nginx.conf"])
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if (try? RawHTTPClient(port: port, timeoutSeconds: 1)) != nil { return process }
            usleep(20_000)
        }
        process.signal(SIGKILL)
        _ = process.wait()
        throw ChildProcess.Failure(description: "nginx did not listen on \(port) within 5 s: \(process.readToEnd().stderr)")
    }

    @Test func twoGatewaysBehindNginxShareTheirLimitsInRedis() throws {
        let nginxExecutable = try SystemTools.require("nginx", package: "nginx")
        let redis = try RedisServer()
        let directory = try SystemTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for site in ["horoscope-daily", "news-portal"] {
            try "upstream-token-of-\(site)\n".write(to: directory.appendingPathComponent(site), atomically: true, encoding: .utf8)
        }
        let cli = CommandLineTests()
        var gateways: [CommandLineTests.RunningServe] = []
        defer { for index in gateways.indices { _ = gateways[index].stop() } }
        for instance in 1...2 {
            let config = try gatewayConfig(redis: redis, directory: directory, instance: instance)
            gateways.append(try cli.startServe(config: config, environment: ProcessInfo.processInfo.environment))
        }
        let ports = try gateways.map { try #require($0.port, "a gateway did not start: \($0.log)") }
        // compose's healthcheck, as the container runs it: the admin token comes from a secret file.
        let tokenFile = directory.appendingPathComponent("admin-token")
        try "\(Self.adminToken)\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let healthcheck = try #require(mapping(mapping(mapping(try ContainerDeployTests().compose()["services"])["justgate-1"])["healthcheck"])["test"] as? [String])
        for instance in 1...2 {
            let arguments = Array(healthcheck.dropFirst(2)).map {
                $0.replacingOccurrences(of: "/etc/justgate/justgate.yaml", with: directory.path + "/justgate-\(instance).yaml")
                    .replacingOccurrences(of: "/run/secrets/admin-token", with: tokenFile.path)
            }
            let health = try ChildProcess.run(CommandLineTests.binary.path, arguments)
            #expect(health.status == 0, "justgate-\(instance) is not healthy: \(health.stdout)\(health.stderr)")
            #expect(health.stdout.contains("/readyz"), "\(health.stdout)")
            let withoutToken = try ChildProcess.run(CommandLineTests.binary.path, Array(arguments.prefix(3)))
            #expect(withoutToken.status == 1 && withoutToken.stderr.contains("--token-file"), "\(withoutToken.stderr)")
        }
        let nginxPort = try FreePort.pick()
        let nginx = try startNginx(nginxExecutable, directory: directory.appendingPathComponent("nginx"),
                                   gatewayPorts: ports, port: nginxPort)
        defer {
            nginx.signal(SIGTERM)
            _ = nginx.wait()
        }

        // sms-per-number allows 3 per phone number per hour, bursts of 3, for both gateways together.
        var statuses: [Int] = []
        var last: RawHTTPClient.Response?
        for attempt in 1...4 {
            let body = "juid=de6f0132ea9e412599ae31262c45633b&number=8%20912%20345-67-89"
            let raw = "POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\nHost: localhost\r\n"
                + "X-AUTH-TOKEN: \(Self.siteKey)\r\nX-Request-Id: compose-\(attempt)\r\n"
                // A made-up client address: nginx appends the real one, which justgate takes.
                + "X-Forwarded-For: 203.0.113.9\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let response = try RawHTTPClient(port: nginxPort, source: Self.siteAddress).exchange(raw)
            #expect(response.header("X-Request-Id") == "compose-\(attempt)", "nginx must pass the site's request id")
            statuses.append(response.status)
            last = response
        }
        #expect(statuses.prefix(3).allSatisfy { $0 != 429 }, "\(statuses)")
        #expect(statuses.last == 429, "the fourth call for one number must be refused: \(statuses)")
        #expect(last?.json?["policies"] as? [String] == ["sms-per-number"])

        // Both gateways served calls, so the count was shared through Redis, not kept by one of them.
        for index in gateways.indices { _ = gateways[index].stop() }
        let served = gateways.map { $0.log.components(separatedBy: "\"operation\":\"subscribe.sms\"").count - 1 }
        #expect(served.allSatisfy { $0 >= 1 } && served.reduce(0, +) == 4, "calls per gateway: \(served)")
        gateways.removeAll()

        // Every call is audited as the site's address, neither nginx's nor the one the site made up.
        let audited = try (1...2).flatMap { instance in
            try String(contentsOf: directory.appendingPathComponent("audit-\(instance)/audit.jsonl"), encoding: .utf8)
                .split(separator: "\n").compactMap { line -> [String: Any]? in
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    return (object?["request_id"] as? String)?.hasPrefix("compose-") == true ? object : nil
                }
        }
        #expect(audited.count == 4 && audited.allSatisfy { $0["client"] as? String == Self.siteAddress },
                "\(audited.map { $0["client"] ?? "-" })")
    }
}
