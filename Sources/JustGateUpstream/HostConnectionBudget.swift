import CCurl

/// How many connections one loop's libcurl may hold open to a TLS upstream at once
/// (`CURLMOPT_MAX_HOST_CONNECTIONS`), so that HTTP/2 multiplexing is used instead of a connection
/// (and a TLS handshake) per call while the loop ramps up.
///
/// Why a budget at all, measured with libcurl 7.88 against an nginx offering h2 (128 streams per
/// connection), 250 calls started at once on one multi handle:
/// - without `CURLOPT_PIPEWAIT`, every call started before the first connection's ALPN answer opens
///   its own connection: 250 connections, 250 handshakes;
/// - with `CURLOPT_PIPEWAIT`, the calls wait for that answer, the first connection takes as many
///   streams as the server allows, and every call beyond them still opens a connection of its own,
///   because a second connection that is still connecting is not reused: 123 connections;
/// - with `CURLOPT_PIPEWAIT` and this budget: 8 connections at most (1 + 250 / 32); calls over the
///   budget wait in libcurl's pending queue and start as earlier calls finish.
///
/// An HTTP/1.1 upstream needs a connection per call in flight, so the budget is lifted as soon as a
/// finished call shows HTTP/1.x. Plain `http://` upstreams do not multiplex (unless `http_version: 2`, h2c)
/// and get no budget; nor does any upstream with `http_version: 1.1`.
///
/// Known limit (libcurl 7.88, not this budget): when the server ends a connection after N calls with
/// GOAWAY (nginx `keepalive_requests`, 1000 by default), libcurl retries the calls it refused on a
/// fresh connection, at most 5 times. At nginx's default about 3 calls in 100,000 still fail (as many
/// as before multiplexing); a server that ends connections after fewer calls than it allows streams
/// (e.g. 100 calls, 128 streams) fails about 1.5 % at 500 calls in flight, where one connection per
/// call in flight failed none.
struct HostConnectionBudget {
    /// Streams each connection is counted for. RFC 9113 recommends servers allow at least 100
    /// concurrent streams (nginx 128, Go 250); counting a third of that leaves room for servers that
    /// allow fewer. Against a server that allows fewer than 32, calls beyond its limit wait for a
    /// stream instead of opening connections (the budget still grows with the calls in flight).
    static let streamsPerConnection = 32

    enum UpstreamHTTPVersion: Equatable {
        /// No call has finished yet: the upstream may offer h2 (ALPN) or not.
        case unknown
        case http2
        case http1
    }

    private(set) var upstreamVersion = UpstreamHTTPVersion.unknown

    /// `CURLMOPT_MAX_HOST_CONNECTIONS` for the next call; 0 means no limit. `multiplexing`: whether the calls
    /// may share connections (HTTP/2 over TLS by default, see `UpstreamHTTPVersionChoice.mayMultiplex`).
    func limit(inFlight: Int, multiplexing: Bool) -> Int {
        guard multiplexing, upstreamVersion != .http1 else { return 0 }
        return 1 + inFlight / HostConnectionBudget.streamsPerConnection
    }

    /// Learns the upstream's protocol from a finished call (`CURLINFO_HTTP_VERSION`). The latest call
    /// wins, so an upstream that changes its offer (a reload, another server behind the name) is followed.
    mutating func observe(httpVersion: Int) {
        switch httpVersion {
        case Int(CURL_HTTP_VERSION_2_0): upstreamVersion = .http2
        case Int(CURL_HTTP_VERSION_1_0), Int(CURL_HTTP_VERSION_1_1): upstreamVersion = .http1
        default: break  // 0: no answer was read; HTTP/3 is never asked for
        }
    }
}

extension UpstreamRequest {
    /// Whether the call goes over TLS, where libcurl may negotiate HTTP/2 (ALPN).
    var isOverTLS: Bool {
        var url = baseURL
        return url.withUTF8 { bytes in
            bytes.count >= 6 && (bytes[0] | 0x20) == UInt8(ascii: "h") && (bytes[1] | 0x20) == UInt8(ascii: "t")
                && (bytes[2] | 0x20) == UInt8(ascii: "t") && (bytes[3] | 0x20) == UInt8(ascii: "p")
                && (bytes[4] | 0x20) == UInt8(ascii: "s") && bytes[5] == UInt8(ascii: ":")
        }
    }
}
