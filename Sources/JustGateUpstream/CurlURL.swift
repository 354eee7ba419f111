import CCurl

/// The upstream URL of one easy handle, kept parsed in a libcurl `CURLU` (CURLOPT_CURLU).
///
/// Given a URL string (CURLOPT_URL), libcurl parses, checks and normalises the whole URL again on
/// every call: about 13k instructions, more than a tenth of a plain proxied call. The base URL is
/// the same for every call of a gateway (`upstream.url`; a reload may change it), so it is parsed
/// once, when it changes, and each call only sets the path and query, which libcurl stores as given.
/// The target's bytes are laid out as "path\0query\0" in a buffer this value owns and reuses.
struct CurlURL {
    /// Created on first use; freed by `deallocate`.
    private(set) var handle: OpaquePointer?
    /// The base URL the handle was parsed from, or nil before the first successful parse.
    private var base: String?
    /// The base URL's own path ("" or "/prefix"), which goes in front of every target's path.
    private var basePath: [UInt8] = []
    private var scratch = UnsafeMutableBufferPointer<CChar>(start: nil, count: 0)

    /// Points the handle at `base` + `target` ("/path" or "/path?query", already percent-encoded).
    mutating func point(base: String, target: String) -> CURLUcode {
        if handle == nil {
            handle = curl_url()
            guard handle != nil else { return CURLUE_OUT_OF_MEMORY }
        }
        // Native strings compare equal by identity first: the gateway hands the same base every call.
        if base != self.base {
            self.base = nil
            let parsed = curl_url_set(handle, CURLUPART_URL, base, 0)
            guard parsed == CURLUE_OK else { return parsed }
            self.base = base
            basePath = Self.path(of: base)
        }
        var target = target
        return target.withUTF8 { target in setPathAndQuery(target) }
    }

    func deallocate() {
        if let handle { curl_url_cleanup(handle) }
        scratch.deallocate()
    }

    private mutating func setPathAndQuery(_ target: UnsafeBufferPointer<UInt8>) -> CURLUcode {
        // "/" when both base and target have no path: a request line needs one.
        let needed = max(basePath.count + target.count, 1) + 2
        if scratch.count < needed {
            scratch.deallocate()
            scratch = .allocate(capacity: max(needed, 256))
        }
        guard let start = scratch.baseAddress else { return CURLUE_OUT_OF_MEMORY }
        let bytes = UnsafeMutableRawPointer(start)
        var length = 0
        basePath.withUnsafeBytes { prefix in
            if let source = prefix.baseAddress { bytes.copyMemory(from: source, byteCount: prefix.count) }
        }
        length += basePath.count
        if let source = target.baseAddress { (bytes + length).copyMemory(from: source, byteCount: target.count) }
        var queryStart: Int?
        for offset in length..<(length + target.count) where scratch[offset] == 0x3F {  // '?'
            scratch[offset] = 0
            queryStart = offset + 1
            break
        }
        length += target.count
        if length == 0 {
            scratch[0] = 0x2F  // '/'
            length = 1
        }
        scratch[length] = 0
        let code = curl_url_set(handle, CURLUPART_PATH, start, 0)
        guard code == CURLUE_OK else { return code }
        // An empty query ("/path?") is sent as none, as libcurl does for a URL string.
        let query = queryStart.flatMap { $0 < length ? start + $0 : nil }
        return curl_url_set(handle, CURLUPART_QUERY, query, 0)
    }

    /// The part of `base` after its authority: "" for "https://host:8443", "/v1" for "https://host/v1".
    static func path(of base: String) -> [UInt8] {
        let bytes = Array(base.utf8)
        var index = 0
        // Past "scheme://", then to the first '/' of the path.
        while index + 2 < bytes.count, !(bytes[index] == 0x3A && bytes[index + 1] == 0x2F && bytes[index + 2] == 0x2F) {
            index += 1
        }
        index = min(index + 3, bytes.count)
        while index < bytes.count, bytes[index] != 0x2F { index += 1 }
        return Array(bytes[index...])
    }
}
