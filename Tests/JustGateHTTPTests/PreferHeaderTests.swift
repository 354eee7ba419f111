import JustGateHTTP
import Testing

/// `Prefer` (RFC 7240) read as preferences, not as text: only a preference named `respond-async` asks for
/// an asynchronous answer (issue 25 item 2a).
struct PreferHeaderTests {
    @Test(arguments: [
        ("respond-async", true),
        ("Respond-Async", true),
        ("  respond-async  ", true),
        ("wait=10, respond-async", true),
        ("respond-async; foo=bar, wait=5", true),
        ("handling=lenient,respond-async", true),
        ("return=minimal; note=\"respond-async\"", false),
        ("wait=\"respond-async, x\"", false),
        ("respond-asyncly", false),
        ("x-respond-async", false),
        ("respond-async@x", false),
        ("", false),
    ])
    func respondAsyncIsAPreferenceName(value: String, asks: Bool) {
        #expect(PreferHeader.asksRespondAsync([value]) == asks)
    }

    @Test func anyOfSeveralHeadersMayAsk() {
        #expect(PreferHeader.asksRespondAsync(["wait=1", "respond-async"]))
        #expect(!PreferHeader.asksRespondAsync([]))
        #expect(PreferHeader.names(in: "A=1;b=2 , c") == ["a", "c"])
    }
}
