import Foundation

/// A throwaway P-256 CA and a server certificate for 127.0.0.1 and localhost signed by it, made with the
/// `openssl` command for the TLS test upstreams (`ca.pem`, `server.pem`, `server.key` in `directory`).
enum TestCertificates {
    static func make(in directory: String) throws {
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/ext.cnf", atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        let steps = [
            ["req", "-x509"] + curve + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=justgate test CA"],
            ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf"],
        ]
        for arguments in steps {
            let outcome = try ChildProcess.run("/usr/bin/openssl", arguments, directory: directory)
            guard outcome.status == 0 else {
                throw RawHTTPClient.ClientError(description: "openssl \(arguments[0]) failed: \(outcome.stderr)")
            }
        }
    }
}

extension ChildProcess {
    /// Waits (up to 10 s) until the child accepts connections on `port`; kills it and throws with `why()`
    /// when it does not, or when it ends first.
    func waitUntilAccepting(port: Int, why: () -> String) throws {
        let deadline = Date().addingTimeInterval(10)
        while (try? RawHTTPClient(port: port)) == nil {
            guard Date() < deadline, isRunning else {
                signal(SIGKILL)
                throw RawHTTPClient.ClientError(description: why())
            }
            usleep(20_000)
        }
    }
}
