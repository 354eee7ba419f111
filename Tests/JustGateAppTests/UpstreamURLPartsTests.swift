@testable import JustGateUpstream
import Testing

/// How an upstream URL is split for the parsed-URL handle (`CurlURL`): the base's own path goes in
/// front of every call's target, and a whole URL given to `UpstreamRequest` splits after its authority.
struct UpstreamURLPartsTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080", ""), ("https://api.example.com/v1", "/v1"), ("https://h/a/b", "/a/b"),
        ("http://[::1]:9000/p", "/p"), ("https://h", ""),
    ])
    func theBasesOwnPathIsKept(base: String, path: String) {
        #expect(CurlURL.path(of: base) == Array(path.utf8))
    }

    @Test func aWholeURLSplitsAfterItsAuthority() {
        let request = UpstreamRequest(method: "GET", url: "https://h:1/base/api/x?y=1", headers: [], body: [])
        #expect(request.baseURL == "https://h:1")
        #expect(request.target == "/base/api/x?y=1")
        #expect(request.url == "https://h:1/base/api/x?y=1")
        let bare = UpstreamRequest(method: "GET", url: "http://h", headers: [], body: [])
        #expect(bare.baseURL == "http://h" && bare.target == "")
    }
}
