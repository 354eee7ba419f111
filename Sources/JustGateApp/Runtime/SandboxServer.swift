#if canImport(Glibc)
import Glibc
#endif
import JustGateSandbox
import JustGateServer
import JustGateReactor

/// An outage of the sandbox: every call is answered `503 Error service` for `forMs`, beginning `afterMs` after
/// start. `justgate sandbox --unavailable-for/--unavailable-after` and, for the sandbox embedded in `serve`
/// (`upstream.url: sandbox`, `make run`), `serve --sandbox-unavailable-for/--sandbox-unavailable-after`, so the
/// few-commands demo of a deferral needs no second process.
public struct SandboxOutage: Sendable, Equatable {
    public var afterMs: Int
    public var forMs: Int

    public init(afterMs: Int, forMs: Int) {
        self.afterMs = afterMs
        self.forMs = forMs
    }
}

/// The emulated upstream on its own listener: started inside `justgate serve` when
/// `upstream.url: sandbox`, and alone by `justgate sandbox`.
public final class SandboxServer: Sendable {
    public let api: SandboxAPI
    public let address: SocketAddress
    private let server: HTTPServer

    /// - Parameter failures: errors to answer instead of doing the work (`justgate sandbox --fail`), so sites
    ///   and tests can exercise upstream failures; none by default.
    /// - Parameter unavailableForMs: an outage: every call is answered `503 Error service` for this long
    ///   (`justgate sandbox --unavailable-for`), beginning `unavailableAfterMs` after start
    ///   (`--unavailable-after`, time to create a profile first), then served again, so a site can watch a
    ///   call deferred and delivered once the upstream recovers (issue 25 item 9).
    public init(listen: SocketAddress, tokens: Set<String>, workers: Int = 1,
                failures: SandboxFailures = SandboxFailures(), unavailableForMs: Int = 0, unavailableAfterMs: Int = 0) throws {
        let api = SandboxAPI(tokens: tokens, clock: { Int64(time(nil)) }, failures: failures)
        var configuration = ServerConfiguration(address: listen, workers: workers)
        configuration.threadNamePrefix = "jg-sandbox"
        let begins = MonotonicInstant.now().advanced(byMilliseconds: unavailableAfterMs)
        let outage = unavailableForMs > 0 ? begins..<begins.advanced(byMilliseconds: unavailableForMs) : nil
        let server = HTTPServer(configuration: configuration,
                                handlerFactory: { _ in SandboxHandler(api: api, outage: outage) })
        self.address = try server.start()
        self.api = api
        self.server = server
    }

    public var baseURL: String { "http://\(address)" }

    public func stop() { server.stop() }
}
