import Foundation
import JustGateHTTP
import JustGateServer
import JustGateReactor
import Testing

/// Start-up failures are loud: a loop that cannot build its handler fails `start()`, nothing of
/// the failed start keeps running or listening, and a busy address is refused.
@Suite(.serialized)
struct ServerStartTests {
    struct FactoryFailure: Error, CustomStringConvertible {
        var description: String { "no upstream client for this loop" }
    }

    final class Answering: HTTPHandler {
        func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
            responder.respond(HTTPResponse(status: 204, headers: [], body: []))
        }

        func serverAnswered(_ answer: ServerAnswer) {}
    }

    @Test func aLoopWhoseHandlerCannotBeBuiltFailsStartAndLeavesNothingListening() throws {
        let loopback = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        let failing = HTTPServer(configuration: ServerConfiguration(address: loopback, workers: 3)) { loop in
            if loop.index == 1 { throw FactoryFailure() }
            return Answering()
        }
        var thrown: (any Error)?
        do { try failing.start() } catch { thrown = error }
        let failure = try #require(thrown as? LoopStartError)
        #expect(failure.loop == 1)
        #expect(failure.description.contains("no upstream client for this loop"))

        // The same workers on a fixed port, failing again: afterwards the port is free for a
        // server that does not share it, so no listener of the failed start survived.
        let probe = HTTPServer(configuration: ServerConfiguration(address: loopback, workers: 1)) { _ in Answering() }
        let port = try probe.start().port
        probe.stop()
        let fixed = try #require(SocketAddress(host: "127.0.0.1", port: port))
        let failingAgain = HTTPServer(configuration: ServerConfiguration(address: fixed, workers: 3)) { loop in
            if loop.index == 2 { throw FactoryFailure() }
            return Answering()
        }
        #expect(throws: LoopStartError.self) { try failingAgain.start() }
        let working = HTTPServer(configuration: ServerConfiguration(address: fixed, workers: 2)) { _ in Answering() }
        #expect(throws: Never.self) { try working.start() }
        working.stop()
    }

    @Test func aBusyAddressIsRefusedUnlessJoiningIsAsked() throws {
        let loopback = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        let first = HTTPServer(configuration: ServerConfiguration(address: loopback, workers: 1)) { _ in Answering() }
        let bound = try first.start()
        defer { first.stop() }
        let second = HTTPServer(configuration: ServerConfiguration(address: bound, workers: 1)) { _ in Answering() }
        var thrown: (any Error)?
        do { try second.start() } catch { thrown = error }
        let busy = try #require(thrown as? AddressInUseError)
        #expect(busy.description.contains("127.0.0.1:\(bound.port)"))
        var joining = ServerConfiguration(address: bound, workers: 1)
        joining.joinExistingListeners = true
        let third = HTTPServer(configuration: joining) { _ in Answering() }
        #expect(throws: Never.self) { try third.start() }
        third.stop()
    }
}
