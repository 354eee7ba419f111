#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore

/// Checks `upstream.ca_file` before the gateway starts (and in `check-config`).
///
/// Why: libcurl reads the file on every new upstream connection, so a missing or wrong file used to show up
/// only as a 502 on every request, long after a deploy. Checked here, at the edge where files are read; the
/// config loader stays pure and only refuses an empty value.
public enum UpstreamCAFile {
    /// A CA bundle larger than this is not read whole for the check (the system bundle is about 200 KiB).
    static let checkedBytes = 4 << 20

    /// The problem with `config.upstream.caFile`, or `nil` when it is unset or a readable PEM file with at
    /// least one certificate.
    public static func problem(_ config: GatewayConfig) -> ConfigProblem? {
        guard let path = config.upstream.caFile else { return nil }
        let advice = "point upstream.ca_file at the PEM bundle of the CA that signed the upstream's certificate, or remove it to use the system CA bundle"
        var info = stat()
        guard stat(path, &info) == 0 else {
            return problem("\(path): \(String(cString: strerror(errno))); \(advice)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return problem("\(path) is not a regular file; \(advice)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return problem("\(path) cannot be read by this user; check its permissions, or \(advice)")
        }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: checkedBytes)) ?? nil
        guard let bytes, String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            return problem("\(path) holds no PEM certificate (no -----BEGIN CERTIFICATE----- line); \(advice)")
        }
        return nil
    }

    private static func problem(_ message: String) -> ConfigProblem {
        ConfigProblem(path: "upstream.ca_file", line: nil, message: message)
    }
}
