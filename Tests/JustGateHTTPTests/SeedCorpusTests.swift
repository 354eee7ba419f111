import Foundation
import JustGateHTTP
import Testing

/// Keeps the fuzzing seeds in Tests/Fuzz/corpus honest: each seed must still produce the outcome it was written for.
@Suite("Fuzz seed corpus")
struct SeedCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static func seeds(_ folder: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = corpus.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { name in
            (String(name.dropLast(4)), Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    /// Expected status per request seed; seeds not listed must parse.
    static let requestFailures: [String: Int] = [
        "absolute-form": 400, "bare-lf": 400, "cl-and-te": 400, "double-cl": 400, "http2-version": 505,
        "no-host": 400, "nul-in-value": 400, "obs-fold": 400, "space-before-colon": 400, "te-gzip-chunked": 501,
    ]

    @Test("request seeds give their expected outcome")
    func requestSeeds() throws {
        let seeds = try Self.seeds("http-parser")
        #expect((10...20).contains(seeds.count))
        for seed in seeds {
            var parser = HTTPRequestHeadParser(limits: HTTPLimits())
            let result = Feed.head(seed.bytes, parser: &parser)
            if let status = Self.requestFailures[seed.name] {
                #expect(Feed.status(result) == status, "\(seed.name)")
            } else {
                #expect(try result.get() != nil, "\(seed.name)")
            }
        }
    }

    @Test("chunked seeds decode except the size mismatch")
    func chunkedSeeds() throws {
        let seeds = try Self.seeds("chunked")
        #expect(seeds.count >= 3)
        for seed in seeds {
            let result = Feed.chunked([seed.bytes])
            if seed.name == "size-mismatch" {
                #expect(Feed.status(result) == 400)
            } else {
                #expect(try result.get().done, "\(seed.name)")
            }
        }
    }

    @Test("multipart seeds: boundary is the first line without '--'")
    func multipartSeeds() throws {
        let expectedFailures = ["file-upload": 422, "missing-close": 400]
        let seeds = try Self.seeds("multipart")
        #expect(seeds.count >= 3)
        for seed in seeds {
            let firstLine = seed.bytes.prefix { $0 != 0x0D && $0 != 0x0A }
            let boundary = String(decoding: firstLine.dropFirst(2), as: UTF8.self)
            let result = seed.bytes.withUnsafeBytes { buffer in
                Result { () throws(FormDecodingError) in try MultipartFormData.decode(buffer, boundary: boundary, limits: MultipartLimits()) }
            }
            if let status = expectedFailures[seed.name] {
                #expect(result.failureStatus == status, "\(seed.name)")
            } else {
                #expect(try !result.get().isEmpty, "\(seed.name)")
            }
        }
    }

    @Test("urlencoded seeds decode except the invalid ones")
    func urlencodedSeeds() throws {
        let seeds = try Self.seeds("urlencoded")
        #expect(seeds.count >= 3)
        for seed in seeds {
            let result = Feed.urlencoded(seed.bytes)
            if seed.name.hasPrefix("invalid") {
                #expect(result.failureStatus == 400, "\(seed.name)")
            } else {
                #expect(try !result.get().isEmpty, "\(seed.name)")
            }
        }
    }
}
