import Testing

@testable import JustGateCore

/// `host:port` parsing for listeners: literal addresses only, ports 0...65535, loopback detection.
@Suite struct ConfigListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080, true),
        ("0.0.0.0:0", "0.0.0.0", 0, false),
        ("10.1.2.3:65535", "10.1.2.3", 65535, false),
        ("127.10.0.5:1", "127.10.0.5", 1, true),
        ("localhost:9090", "localhost", 9090, true),
        ("[::1]:8080", "::1", 8080, true),
        ("[0:0:0:0:0:0:0:1]:8080", "0:0:0:0:0:0:0:1", 8080, true),
        ("[::]:80", "::", 80, false),
        ("[2001:db8::10]:443", "2001:db8::10", 443, false),
        ("[::ffff:127.0.0.1]:1", "::ffff:127.0.0.1", 1, true),
        ("[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1, false),
    ])
    func parsesValidAddresses(text: String, host: String, port: Int, isLoopback: Bool) throws {
        let address = try #require(ListenAddress(parsing: text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.isLoopback == isLoopback)
        #expect(address.description == text)
        #expect(ListenAddress(parsing: address.description) == address)
    }

    @Test(arguments: [
        "", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "127.0.0.1:80x", "127.0.0.1:123456", "256.0.0.1:80", "01.2.3.4:80", "1.2.3:80", "1.2.3.4.5:80",
        "::1:8080", "[::1]8080", "[::1", "[::1]:", "[1:2:3:4:5:6:7:8:9]:80", "[1::2::3]:80", "[fe80::1%eth0]:80",
        "[12345::]:80", "[127.0.0.1]:80", "example.com:80", " 127.0.0.1:80", "127.0.0.1:80 ",
    ])
    func rejectsInvalidAddresses(text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }
}
