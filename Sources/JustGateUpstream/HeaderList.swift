import CCurl

/// A `curl_slist` whose nodes and text live in two buffers that one transfer owns and reuses.
///
/// `curl_slist_append` makes two heap allocations per header (node and copied text), so an
/// upstream call with six headers paid twelve mallocs and twelve frees. libcurl only reads the
/// list it is given (CURLOPT_HTTPHEADER: "a linked list of struct curl_slist"), so the list can
/// be laid out here instead: `fill` writes the lines into one text buffer and links fixed nodes
/// to them. The buffers are rebuilt only between calls, never while libcurl holds the list.
struct HeaderList {
    private var nodes = UnsafeMutableBufferPointer<curl_slist>(start: nil, count: 0)
    private var text = UnsafeMutableBufferPointer<CChar>(start: nil, count: 0)

    /// Lays out "Expect:" (so libcurl never waits for 100-continue: a round trip saved) and then
    /// "name: value" for each header, and returns the head of the list. Names and values come
    /// from the pipeline and config, which allow no control characters, so no line can end early.
    ///
    /// Lines libcurl writes itself when the list names no such header are left out, since libcurl formats each
    /// header of the list byte by byte (about 100 instructions a byte in libcurl 7.88's printf) and walks the
    /// whole list for every header it looks up: `Accept: */*` (its default for every HTTP request), and with
    /// `hasBody` a `Content-Type: application/x-www-form-urlencoded` (its default for a call with a body).
    /// The upstream receives the same fields.
    mutating func fill(_ headers: [(name: String, value: String)], hasBody: Bool) -> UnsafeMutablePointer<curl_slist>? {
        let expect: StaticString = "Expect:"
        var textLength = expect.utf8CodeUnitCount + 1
        for header in headers { textLength += header.name.utf8.count + 2 + header.value.utf8.count + 1 }
        reserve(nodes: headers.count + 1, text: textLength)
        guard let nodeBase = nodes.baseAddress, let textBase = text.baseAddress else { return nil }

        var position = 0
        func line(_ write: (inout Int) -> Void) -> UnsafeMutablePointer<CChar> {
            let start = textBase + position
            write(&position)
            text[position] = 0
            position += 1
            return start
        }
        func copy(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) {
            guard let base = bytes.baseAddress else { return }
            UnsafeMutableRawPointer(textBase + position).copyMemory(from: base, byteCount: bytes.count)
            position += bytes.count
        }
        func copy(_ string: String, _ position: inout Int) {
            var string = string
            string.withUTF8 { copy($0, &position) }
        }
        nodeBase[0] = curl_slist(data: line { copy(UnsafeBufferPointer(start: expect.utf8Start, count: expect.utf8CodeUnitCount), &$0) }, next: nil)
        var index = 0
        for header in headers {
            if Self.isLibcurlsDefaultAccept(header) || (hasBody && Self.isLibcurlsDefaultContentType(header)) { continue }
            let data = line { position in
                copy(header.name, &position)
                text[position] = 0x3A
                text[position + 1] = 0x20
                position += 2
                copy(header.value, &position)
            }
            nodeBase[index + 1] = curl_slist(data: data, next: nil)
            nodeBase[index].next = nodeBase + index + 1
            index += 1
        }
        return nodeBase
    }

    /// The Accept libcurl sends when the list names none (http.c, `Curl_http`).
    static func isLibcurlsDefaultAccept(_ header: (name: String, value: String)) -> Bool {
        header.name == "Accept" && header.value == "*/*"
    }

    /// The Content-Type libcurl sends for a body when the list names none (http.c, `Curl_http_body`).
    static func isLibcurlsDefaultContentType(_ header: (name: String, value: String)) -> Bool {
        header.name == "Content-Type" && header.value == "application/x-www-form-urlencoded"
    }

    func deallocate() {
        nodes.deallocate()
        text.deallocate()
    }

    private mutating func reserve(nodes nodeCount: Int, text textCount: Int) {
        if nodes.count < nodeCount {
            nodes.deallocate()
            nodes = .allocate(capacity: max(nodeCount, 8))
        }
        if text.count < textCount {
            text.deallocate()
            text = .allocate(capacity: max(textCount, 512))
        }
    }
}
