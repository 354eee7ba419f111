import JustGateCore
import Logging

/// The log lines of the upstream circuit: one when it opens (an outage begins) and one when it closes again
/// (the outage is over), so an operator reading the log sees each outage as two lines. The half-open probes
/// in between, one every `open_ms` for as long as the upstream stays down, are logged at debug level: at
/// notice they would be two lines every ten seconds of an outage.
struct CircuitTransitionLog: Sendable {
    let logger: Logger
    let config: CircuitConfig

    func changed(from: CircuitState, to: CircuitState) {
        switch (from, to) {
        case (.closed, .open):
            logger.error("upstream circuit opened: the upstream keeps failing; requests get 503 with Retry-After until a probe call succeeds", metadata: [
                    "circuit": "open", "consecutive_failures": "\(config.failures)", "open_ms": "\(config.openMs)",
                ])
        case (_, .closed):
            logger.notice("upstream circuit closed: a probe call succeeded and requests are forwarded again",
                          metadata: ["circuit": "closed"])
        case (_, .halfOpen):
            logger.debug("upstream circuit half-open: one probe call goes upstream", metadata: ["circuit": "half_open"])
        case (_, .open):
            logger.debug("upstream circuit open again: the probe call failed", metadata: ["circuit": "open"])
        }
    }
}
