/// `upstream.http_version`: which HTTP versions libcurl may speak to the upstream.
///
/// Why a choice at all: over TLS, HTTP/2 carries many calls on one connection (fewer handshakes when
/// many calls are in flight at once), while HTTP/1.1 keep-alive costs less CPU per call once the
/// connections exist (no HPACK, no stream bookkeeping in libcurl and nghttp2). bench/results/http-version.md
/// has the measurement the default follows.
public enum UpstreamHTTPVersion: String, Sendable, Equatable, CaseIterable {
    /// HTTP/2 offered over TLS (ALPN; HTTP/1.1 when the upstream does not take it), HTTP/1.1 over http://.
    case auto
    /// HTTP/1.1 only: keep-alive connections, one per call in flight.
    case http1_1 = "1.1"
    /// HTTP/2: over TLS offered by ALPN as with `auto`, over http:// spoken at once (h2c, prior knowledge),
    /// so a plain-text upstream must speak HTTP/2.
    case http2 = "2"

    /// The value `upstream.http_version` defaults to.
    public static let standard = UpstreamHTTPVersion.auto
}
