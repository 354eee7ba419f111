import Testing

@testable import JustGateCore

/// Site key hashing, generation and the constant-time lookup table.
@Suite struct SiteKeyTests {
    static let keys = [SiteKeys.generate(), SiteKeys.generate(), SiteKeys.generate()]
    let table = SiteKeyTable(hashes: SiteKeyTests.keys.map { SiteKeys.sha256($0) })

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ])
    func sha256HexMatchesKnownVectors(key: String, hex: String) {
        #expect(SiteKeys.sha256Hex(key) == hex)
        #expect(SiteKeys.sha256(key) == SiteKeyHex.decode(hex))
        #expect(SiteKeys.sha256(Substring("xabc").dropFirst()) == SiteKeys.sha256("abc"))
    }

    @Test func generatedKeysAre43URLSafeCharactersAndDistinct() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let generated = (0..<200).map { _ in SiteKeys.generate() }
        for key in generated {
            #expect(key.count == 43)
            #expect(key.allSatisfy { allowed.contains($0) }, "\(key)")
        }
        #expect(Set(generated).count == generated.count)
    }

    @Test(arguments: [
        ([UInt8](), ""), (Array("f".utf8), "Zg"), (Array("fo".utf8), "Zm8"), (Array("foo".utf8), "Zm9v"),
        (Array("foob".utf8), "Zm9vYg"), (Array("foobar".utf8), "Zm9vYmFy"), ([0xFB, 0xFF, 0xBF], "-_-_"),
    ])
    func base64URLMatchesRFC4648(bytes: [UInt8], encoded: String) {
        #expect(SiteKeys.base64URLEncoded(bytes) == encoded)
    }

    @Test func hexDecodingRejectsOddLengthAndNonHex() {
        #expect(SiteKeyHex.decode("0aFf") == [0x0A, 0xFF])
        #expect(SiteKeyHex.decode("abc") == nil)
        #expect(SiteKeyHex.decode("zz") == nil)
        #expect(SiteKeyHex.encode([0x00, 0xAB]) == "00ab")
    }

    @Test(arguments: 0..<3)
    func tableMatchesTheRightIndex(index: Int) {
        #expect(table.match(presentedKey: Self.keys[index], now: 0) == .site(index))
        #expect(table.lookup(presentedKey: Self.keys[index], now: 0).keyIndex == index)
    }

    @Test func tableRejectsWrongKeys() throws {
        let key = Self.keys[1]
        let lastCharacter = try #require(key.last)
        let flipped = String(key.dropLast()) + (lastCharacter == "A" ? "B" : "A")
        #expect(table.match(presentedKey: flipped, now: 0) == .unknown)
        #expect(table.match(presentedKey: String(key.dropLast()), now: 0) == .unknown)
        #expect(table.match(presentedKey: key + "x", now: 0) == .unknown)
        #expect(table.match(presentedKey: key + key, now: 0) == .unknown)
        #expect(table.match(presentedKey: SiteKeys.sha256Hex(key), now: 0) == .unknown)
        #expect(table.match(presentedKey: "", now: 0) == .unknown)
        #expect(table.match(presentedKey: " \(key)", now: 0) == .unknown)
    }

    @Test func emptyKeyNeverMatchesEvenIfItsHashIsStored() {
        let table = SiteKeyTable(hashes: [SiteKeys.sha256(""), SiteKeys.sha256("k")])
        #expect(table.match(presentedKey: "", now: 0) == .unknown)
        #expect(table.match(presentedKey: "k", now: 0) == .site(1))
    }

    @Test func storedHashesOfTheWrongLengthNeverMatch() {
        let full = SiteKeys.sha256("k")
        let table = SiteKeyTable(hashes: [Array(full.prefix(16)), full + [0], [], full])
        #expect(table.match(presentedKey: "k", now: 0) == .site(3))
        #expect(SiteKeyTable(hashes: []).match(presentedKey: "k", now: 0) == .unknown)
    }

    @Test func tableBuiltFromSitesUsesSiteOrder() {
        let sites = ["a", "b"].map {
            SiteConfig(id: $0, keySHA256: SiteKeys.sha256("key-\($0)"), upstreamToken: .env("T"))
        }
        let table = SiteKeyTable(sites: sites)
        #expect(table.count == 2)
        #expect(table.match(presentedKey: "key-b", now: 0) == .site(1))
    }
}
