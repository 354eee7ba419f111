import JustGateHTTP

/// Helpers that feed strings to the byte-level APIs the way the server's read buffer would.
enum Feed {
    /// Parses the whole of `raw` in one call.
    static func head(
        _ raw: String, limits: HTTPLimits = HTTPLimits()
    ) -> Result<(head: HTTPRequestHead, consumed: Int)?, HTTPParseError> {
        var parser = HTTPRequestHeadParser(limits: limits)
        return head(Array(raw.utf8), parser: &parser)
    }

    static func head(
        _ bytes: [UInt8], parser: inout HTTPRequestHeadParser
    ) -> Result<(head: HTTPRequestHead, consumed: Int)?, HTTPParseError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(HTTPParseError) in try parser.parse(buffer) }
        }
    }

    /// Feeds `raw` one more byte per call, as a slow client would, until the parser answers or throws.
    /// Returns the result and the length of the prefix at which it came.
    static func headByteAtATime(
        _ raw: String, limits: HTTPLimits = HTTPLimits()
    ) -> (result: Result<(head: HTTPRequestHead, consumed: Int)?, HTTPParseError>, prefix: Int) {
        var parser = HTTPRequestHeadParser(limits: limits)
        let bytes = Array(raw.utf8)
        for length in 1...bytes.count {
            let result = head(Array(bytes[..<length]), parser: &parser)
            switch result {
            case .success(nil): continue
            default: return (result, length)
            }
        }
        return (.success(nil), bytes.count)
    }

    /// The error status a result carries, or nil when it succeeded.
    static func status<T>(_ result: Result<T, HTTPParseError>) -> Int? {
        if case .failure(let error) = result { return error.status }
        return nil
    }

    static func chunked(
        _ parts: [[UInt8]], maxBodyBytes: Int = 1_048_576
    ) -> Result<(body: [UInt8], consumed: Int, done: Bool), HTTPParseError> {
        var decoder = ChunkedBodyDecoder(maxBodyBytes: maxBodyBytes)
        var body: [UInt8] = []
        var consumed = 0
        var done = false
        for part in parts where !done {
            let step = part.withUnsafeBytes { buffer in
                Result { () throws(HTTPParseError) in try decoder.decode(buffer, into: &body) }
            }
            switch step {
            case .success(let progress):
                consumed += progress.consumed
                done = progress.done
            case .failure(let error):
                return .failure(error)
            }
        }
        return .success((body, consumed, done))
    }

    static func multipart(
        _ body: String, boundary: String, limits: MultipartLimits = MultipartLimits()
    ) -> Result<[(name: String, value: String)], FormDecodingError> {
        Array(body.utf8).withUnsafeBytes { buffer in
            Result { () throws(FormDecodingError) in try MultipartFormData.decode(buffer, boundary: boundary, limits: limits) }
        }
    }

    static func urlencoded(_ bytes: [UInt8]) -> Result<[(name: String, value: String)], FormDecodingError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(FormDecodingError) in try URLEncodedForm.decode(buffer) }
        }
    }
}

/// Field pairs as an Equatable array, because tuples are not Equatable.
func pairs(_ fields: [(name: String, value: String)]) -> [[String]] {
    fields.map { [$0.name, $0.value] }
}
