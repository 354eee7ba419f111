import JustGateHTTP
import Testing

@Suite("multipart/form-data")
struct MultipartFormDataTests {
    static let curlBoundary = "------------------------d74496d66958873e"
    static let goBoundary = "3d6b6a416f9b5c1a8b5f4e1e0a2b8c7d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"
    static let pythonBoundary = "8b3e3c1b5f6a4e0f9c2d7a1b0e5f4c3d"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var boundary: String
        var body: String
        var fields: [[String]]
        var testDescription: String { name }
    }

    static let valid: [Case] = [
        Case(
            name: "curl --form (and PHP CURLOPT_POSTFIELDS array)", boundary: curlBoundary,
            body: "--\(curlBoundary)\r\nContent-Disposition: form-data; name=\"person\"\r\n\r\nanonymous\r\n"
                + "--\(curlBoundary)\r\nContent-Disposition: form-data; name=\"secret\"\r\nContent-Type: text/plain\r\n\r\nhunter2\r\n"
                + "--\(curlBoundary)--\r\n",
            fields: [["person", "anonymous"], ["secret", "hunter2"]]),
        Case(
            name: "Go mime/multipart writer", boundary: goBoundary,
            body: "--\(goBoundary)\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+7 999 123-45-67\r\n"
                + "--\(goBoundary)\r\nContent-Disposition: form-data; name=\"quote\\\"d\"\r\n\r\nx\r\n"
                + "--\(goBoundary)--\r\n",
            fields: [["phone", "+7 999 123-45-67"], ["quote\"d", "x"]]),
        Case(
            name: "Python requests", boundary: pythonBoundary,
            body: "--\(pythonBoundary)\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.c\r\n"
                + "--\(pythonBoundary)\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nd@e.f\r\n"
                + "--\(pythonBoundary)--\r\n",
            fields: [["email", "a@b.c"], ["email", "d@e.f"]]),
        Case(
            name: "preamble, epilogue, padding and multi-line value", boundary: "XyZ",
            body: "This is the preamble.\r\n--XyZ \t\r\ncontent-disposition: FORM-DATA;name=note\r\n\r\nline1\r\nline2\r\n\r\n--XyZ--epilogue\r\nmore",
            fields: [["note", "line1\r\nline2\r\n"]]),
        Case(
            name: "bare LF line endings", boundary: "b",
            body: "--b\nContent-Disposition: form-data; name=\"a\"\n\n1\n--b\nContent-Disposition: form-data; name=\"b\"\n\n2\n--b--\n",
            fields: [["a", "1"], ["b", "2"]]),
        Case(
            name: "empty value, UTF-8 name and value, charset", boundary: "b",
            body: "--b\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
                + "--b\r\nContent-Disposition: form-data; name=\"имя\"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nЗначение\r\n--b--",
            fields: [["empty", ""], ["имя", "Значение"]]),
        Case(
            name: "value containing a near-boundary", boundary: "b",
            body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx--b is not it\r\n-b\r\n--b--\r\n",
            fields: [["a", "x--b is not it\r\n-b"]]),
        Case(name: "no parts at all", boundary: "b", body: "--b--\r\n", fields: []),
    ]

    @Test("decodes bodies as real clients send them", arguments: valid)
    func decodes(_ testCase: Case) throws {
        let fields = try Feed.multipart(testCase.body, boundary: testCase.boundary).get()
        #expect(pairs(fields) == testCase.fields)
    }

    @Test("boundary taken from a quoted Content-Type parameter")
    func quotedBoundary() throws {
        let mediaType = try #require(MediaType(parsing: "Multipart/Form-Data; boundary=\"simple boundary:1\""))
        #expect(mediaType.type == "multipart" && mediaType.subtype == "form-data")
        let boundary = try #require(mediaType.parameters["boundary"])
        #expect(boundary == "simple boundary:1")
        let body = "--simple boundary:1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nok\r\n--simple boundary:1--\r\n"
        #expect(pairs(try Feed.multipart(body, boundary: boundary).get()) == [["a", "ok"]])
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var status: Int
        var limits = MultipartLimits()
        var boundary = "b"
        var testDescription: String { name }
    }

    static let part = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"

    static let invalid: [Failure] = [
        Failure(name: "missing closing delimiter", body: part, status: 400),
        Failure(name: "truncated after delimiter", body: part + "--b", status: 400),
        Failure(name: "no boundary at all", body: "just text", status: 400),
        Failure(name: "wrong boundary", body: part + "--b--", status: 400, boundary: "c"),
        Failure(name: "invalid boundary characters", body: part + "--b--", status: 400, boundary: "a\"b"),
        Failure(name: "boundary too long", body: "", status: 400, boundary: String(repeating: "x", count: 71)),
        Failure(name: "boundary inside a value", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--bb\r\n--b--", status: 400),
        Failure(name: "junk after delimiter", body: "--bX\r\n" + part + "--b--", status: 400),
        Failure(name: "missing Content-Disposition", body: "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "not form-data", body: "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "no name", body: "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "unterminated quoted name", body: "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "duplicate name parameter", body: "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "no blank line after headers", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n--b--", status: 400),
        Failure(name: "header without colon", body: "--b\r\nContent-Disposition form-data\r\n\r\nv\r\n--b--", status: 400),
        Failure(name: "base64 transfer encoding", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\ndg==\r\n--b--", status: 400),
        Failure(name: "file upload (curl -F a=@file)", body: "--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", status: 422),
        Failure(name: "file upload with filename*", body: "--b\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''x.txt\r\n\r\nv\r\n--b--", status: 422),
        Failure(name: "binary part", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: application/octet-stream\r\n\r\nv\r\n--b--", status: 422),
        Failure(name: "non-UTF-8 charset", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\nv\r\n--b--", status: 422),
        Failure(name: "too many parts", body: part + part + part + "--b--", status: 413, limits: MultipartLimits(maxParts: 2)),
        Failure(
            name: "part too large", body: "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + String(repeating: "x", count: 100) + "\r\n--b--",
            status: 413, limits: MultipartLimits(maxPartBytes: 100)),
    ]

    @Test("malformed, oversized and file bodies are rejected", arguments: invalid)
    func rejects(_ failure: Failure) {
        let result = Feed.multipart(failure.body, boundary: failure.boundary, limits: failure.limits)
        guard case .failure(let error) = result else {
            Issue.record("\(failure.name): expected \(failure.status), got \(result)")
            return
        }
        #expect(error.status == failure.status, "\(failure.name): \(error.message)")
    }

    @Test("invalid UTF-8 bytes in a value are rejected with 400")
    func invalidUTF8() {
        let prefix = Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".utf8)
        let body = prefix + [0xC3, 0x28] + Array("\r\n--b--".utf8)
        let result = body.withUnsafeBytes { buffer in
            Result { () throws(FormDecodingError) in try MultipartFormData.decode(buffer, boundary: "b", limits: MultipartLimits()) }
        }
        guard case .failure(let error) = result else {
            Issue.record("expected failure")
            return
        }
        #expect(error.status == 400)
    }

    @Test("limits are inclusive")
    func limitsInclusive() throws {
        let twoParts = Self.part + Self.part + "--b--"
        #expect(try Feed.multipart(twoParts, boundary: "b", limits: MultipartLimits(maxParts: 2)).get().count == 2)
        // A part is its header line, the blank line and the value: 44 + 2 + 2 + 1 bytes.
        let partBytes = "Content-Disposition: form-data; name=\"a\"\r\n\r\nv".utf8.count
        #expect(try Feed.multipart(twoParts, boundary: "b", limits: MultipartLimits(maxPartBytes: partBytes)).get().count == 2)
        #expect(Feed.multipart(twoParts, boundary: "b", limits: MultipartLimits(maxPartBytes: partBytes - 1)).failureStatus == 413)
    }
}

extension Result where Failure == FormDecodingError {
    var failureStatus: Int? {
        if case .failure(let error) = self { return error.status }
        return nil
    }
}
