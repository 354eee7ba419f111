/// `upstream.http_version`: which HTTP versions libcurl may speak to the upstream.
///
/// Why a choice at all: over TLS, HTTP/2 carries many calls on one connection (fewer handshakes when
/// many calls are in flight at once), while HTTP/1.1 keep-alive costs less CPU per call once the
/// connections exist (no HPACK, no stream bookkeeping in libcurl and nghttp2). Measured through libcurl
/// 7.88 (bench/results/http-version.md): HTTP/1.1 took 215k instructions and 66 mallocs per call against
/// 276k and 92, and natively 81 µs CPU and 7.3 syscalls per call against 89 µs and 11.5 with 50 calls in
/// flight (94 µs / 8.2 against 182 µs / 15.6 one at a time). So the default is 1.1; `auto` keeps one
/// connection per 32 calls in flight where 1.1 opens one per call in flight (each a TLS handshake, once).
public enum UpstreamHTTPVersion: String, Sendable, Equatable, CaseIterable {
    /// HTTP/2 offered over TLS (ALPN; HTTP/1.1 when the upstream does not take it), HTTP/1.1 over http://.
    case auto
    /// HTTP/1.1 only: keep-alive connections, one per call in flight.
    case http1_1 = "1.1"
    /// HTTP/2: over TLS offered by ALPN as with `auto`, over http:// spoken at once (h2c, prior knowledge),
    /// so a plain-text upstream must speak HTTP/2.
    case http2 = "2"

    /// The value `upstream.http_version` defaults to (see above why).
    public static let standard = UpstreamHTTPVersion.http1_1
}
