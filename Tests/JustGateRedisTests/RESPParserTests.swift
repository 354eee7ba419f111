import Testing

@testable import JustGateRedis

/// RESP2 replies as they arrive: whole, split anywhere, or not RESP at all.
@Suite struct RESPParserTests {
    func parse(_ text: String) throws -> (value: RESPValue, consumed: Int)? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { try RESPParser().parse($0) }
    }

    @Test func everyReplyType() throws {
        #expect(try parse("+OK\r\n")?.value == .simple("OK"))
        #expect(try parse("-NOSCRIPT No matching script\r\n")?.value.errorCode == "NOSCRIPT")
        #expect(try parse(":-42\r\n")?.value == .integer(-42))
        #expect(try parse("$5\r\nhello\r\n")?.value == .bulk(Array("hello".utf8)))
        #expect(try parse("$-1\r\n")?.value == .bulk(nil))
        #expect(try parse("*-1\r\n")?.value == .array(nil))
        #expect(try parse("*3\r\n:1700000000000000\r\n:-1\r\n:5\r\n")?.value
                == .array([.integer(1_700_000_000_000_000), .integer(-1), .integer(5)]))
    }

    @Test func aReplySplitAnywhereIsIncompleteUntilWhole() throws {
        let whole = "*2\r\n$3\r\nabc\r\n:7\r\n"
        for cut in 0..<whole.utf8.count {
            #expect(try parse(String(decoding: Array(whole.utf8).prefix(cut), as: UTF8.self)) == nil, "cut at \(cut)")
        }
        #expect(try parse(whole)?.consumed == whole.utf8.count)
    }

    @Test func twoRepliesInOneReadAreTakenOneAtATime() throws {
        let parsed = try parse(":1\r\n:2\r\n")
        #expect(parsed?.value == .integer(1))
        #expect(parsed?.consumed == 4)
    }

    @Test(arguments: ["?what\r\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcXY", "*99999999\r\n", ":99999999999999999999\r\n",
                      "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "$2000000\r\n"])
    func bytesThatAreNotRESPAreRefused(text: String) {
        #expect(throws: RESPParser.ProtocolError.self) { try parse(text) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var out: [UInt8] = []
        RESPEncoder.append(command: ["EVALSHA", "ab", "1", "ключ"], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$8\r\nключ\r\n")
    }
}
