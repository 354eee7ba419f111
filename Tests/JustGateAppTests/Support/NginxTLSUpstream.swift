#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Debian's nginx as a TLS upstream that can offer HTTP/2 (ALPN), with a throwaway CA and a
/// certificate for 127.0.0.1 made per test. It answers every call after `delaySeconds` (echo_sleep,
/// from libnginx-mod-http-echo) so that concurrent calls overlap, or passes it to a backend that holds
/// answers until every call has arrived, answers 401 unless X-AUTH-TOKEN is
/// `token`, and logs each call as "<connection number> <protocol> <status> <end> <duration>", so a
/// test can see how many connections carried which calls, and which calls were in flight together. One process (master_process off), stopped by `stop()`.
final class NginxTLSUpstream {
    struct Call: Equatable {
        var connection: Int
        var httpProtocol: String
        var status: Int
        /// When nginx received the call and when it finished it, in seconds on nginx's clock.
        var start: Double
        var end: Double
    }

    static let nginx = "/usr/sbin/nginx"
    static let echoModule = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

    let directory: String
    let port: Int
    private let process: ChildProcess
    var caFile: String { directory + "/ca.pem" }

    /// - Parameter answersFrom: a port on 127.0.0.1 that nginx proxies every call to (a `HeldAnswersBackend`),
    ///   instead of answering itself after `delaySeconds`.
    init(offersHTTP2: Bool, token: String, delaySeconds: Double = 0.3, answersFrom backendPort: Int? = nil) throws {
        for path in [NginxTLSUpstream.nginx, NginxTLSUpstream.echoModule] where !FileManager.default.fileExists(atPath: path) {
            throw RawHTTPClient.ClientError(description: "\(path) is missing: run `make deps` (installs nginx and libnginx-mod-http-echo)")
        }
        directory = NSTemporaryDirectory() + "justgate-nginx-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestCertificates.make(in: directory)
        let chosen = try ClosedPort.make()
        let answer = backendPort.map { "proxy_pass http://127.0.0.1:\($0);" }
            ?? "default_type application/json; echo_sleep \(delaySeconds); echo -n \"[35,36]\";"
        let config = """
            load_module \(NginxTLSUpstream.echoModule);
            daemon off;
            master_process off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events { worker_connections 256; }
            http {
              log_format calls '$connection $server_protocol $status $msec $request_time';
              access_log \(directory)/access.log calls;
              client_body_temp_path \(directory)/body;
              proxy_temp_path \(directory)/proxy;
              fastcgi_temp_path \(directory)/fastcgi;
              uwsgi_temp_path \(directory)/uwsgi;
              scgi_temp_path \(directory)/scgi;
              server {
                listen 127.0.0.1:\(chosen) ssl\(offersHTTP2 ? " http2" : "");
                ssl_certificate \(directory)/server.pem;
                ssl_certificate_key \(directory)/server.key;
                if ($http_x_auth_token != "\(token)") { return 401; }
                location / { \(answer) }
              }
            }
            """
        try config.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process = try ChildProcess(NginxTLSUpstream.nginx, ["-p", directory, "-e", directory + "/error.log", "-c", directory + "/nginx.conf"],
                                   directory: directory)
        try process.waitUntilAccepting(port: chosen) { [directory] in
            let errors = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
            return "nginx did not start on port \(chosen): \(errors)"
        }
        port = chosen
    }

    func stop() {
        process.signal(SIGKILL)
        process.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The calls nginx logged so far (it writes each line when the call ends).
    func calls() -> [Call] {
        let text = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 5, let connection = Int(fields[0]), let status = Int(fields[2]),
                  let end = Double(fields[3]), let duration = Double(fields[4]) else { return nil }
            return Call(connection: connection, httpProtocol: String(fields[1]), status: status, start: end - duration, end: end)
        }
    }

    /// The logged calls once there are `count` of them, or what is there after `timeoutSeconds`.
    func calls(count: Int, timeoutSeconds: Double = 5) -> [Call] {
        Polling.read(timeoutSeconds: timeoutSeconds, until: { $0.count >= count }, calls)
    }

    /// The most calls nginx had in flight at one moment.
    static func mostInFlight(_ calls: [Call]) -> Int {
        calls.map { call in calls.filter { $0.start <= call.start && call.start < $0.end }.count }.max() ?? 0
    }
}
