import JustGateSandbox
import Synchronization
import Testing

/// A clock tests move by hand, so subscriptions land at known instants.
final class ManualClock: Sendable {
    private let seconds: Mutex<Int64>

    init(_ start: Int64) {
        seconds = Mutex(start)
    }

    func set(_ value: Int64) {
        seconds.withLock { $0 = value }
    }

    func now() -> Int64 {
        seconds.withLock { $0 }
    }
}

/// Issues `00000000000000000000000000000001`, `...02`, ... so tests know every JUID in advance.
final class SequentialJUIDs: Sendable {
    private let counter = Mutex(0)

    func next() -> String {
        let value = counter.withLock { count -> Int in
            count += 1
            return count
        }
        return SequentialJUIDs.juid(value)
    }

    static func juid(_ value: Int) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }
}

/// A sandbox with one known token, a manual clock starting at 2020-08-11 20:38:49 UTC and sequential JUIDs.
struct SandboxFixture {
    static let token = "cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS"
    static let otherToken = "0zNPYIFit4eqkGm7Mvd5WVfAU9ngXOy"
    static let start: Int64 = 1_597_178_329

    let clock = ManualClock(SandboxFixture.start)
    let api: SandboxAPI

    init(profileCapacity: Int = SandboxAPI.defaultProfileCapacity, failures: SandboxFailures = SandboxFailures()) {
        let clock = self.clock
        let juids = SequentialJUIDs()
        api = SandboxAPI(
            tokens: [Self.token, Self.otherToken],
            clock: { clock.now() },
            juidGenerator: { juids.next() },
            profileCapacity: profileCapacity,
            failures: failures
        )
    }

    func send(
        _ method: String,
        _ path: String,
        query: [(name: String, value: String)] = [],
        form: [(name: String, value: String)] = [],
        token: String? = SandboxFixture.token
    ) -> SandboxResponse {
        api.handle(SandboxRequest(method: method, path: path, query: query, form: form, token: token))
    }

    /// Creates a profile and returns its JUID, failing the test if creation did not succeed.
    func createProfile(token: String = SandboxFixture.token) -> String {
        let response = send("POST", "/api/user/v1/subscription/create/profile", form: [("name", "Bob")], token: token)
        #expect(response.status == 200)
        return response.body
    }

    func subscribe(
        _ channel: String,
        juid: String,
        address: String,
        refid: String? = nil,
        extra: [(name: String, value: String)] = []
    ) -> SandboxResponse {
        var form: [(name: String, value: String)] = [("juid", juid), (channel == "sms" ? "number" : "email", address)]
        if let refid { form.append(("refid", refid)) }
        return send("POST", "/api/user/v1/subscription/subscribe/\(channel)", form: form + extra)
    }

    func segments(_ juid: String) -> SandboxResponse {
        send("GET", "/api/user/v1/info/segment/", query: [("juid", juid)])
    }

    func countByRefid(_ channel: String, from start: Int64, to end: Int64) -> SandboxResponse {
        send(
            "GET", "/api/user/v1/stat/get-count-refid/\(channel)",
            query: [("startDate", String(start)), ("endDate", String(end))])
    }

    func statByRefid(_ channel: String, from start: String, to end: String) -> SandboxResponse {
        send("GET", "/api/user/v1/info/stat-by-refid/channel/\(channel)", query: [("start", start), ("end", end)])
    }
}

func text(_ status: Int, _ body: String) -> SandboxResponse {
    SandboxResponse(status: status, contentType: SandboxResponse.plainText, body: body)
}

func json(_ body: String) -> SandboxResponse {
    SandboxResponse(status: 200, contentType: SandboxResponse.json, body: body)
}
