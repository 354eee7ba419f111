import JustGateHTTP
import W3CTraceContext

/// W3C trace context through the gateway: an incoming `traceparent` that parses is continued (same
/// trace, a new span id for justgate's hop, `tracestate` kept when it parses too); one that does not
/// parse is replaced, never forwarded, and a request without one starts a new trace. The trace id
/// goes into the request log line and the audit record, so a call can be followed from the site's
/// traces through ours to the upstream.
struct TracePropagation {
    /// Ids come from a per-loop generator seeded once from the system: a `getrandom` call for each of
    /// the two ids of every request would cost more than the rest of this stage.
    private var random: SplitMix64

    init() {
        var system = SystemRandomNumberGenerator()
        random = SplitMix64(seed: system.next())
    }

    /// The context to forward for a request with these headers.
    mutating func context(for head: HTTPRequestHead) -> TraceContext {
        if let parent = head.value(for: "traceparent") {
            // A bad tracestate is dropped on its own; a bad traceparent ends the incoming trace.
            let incoming = (try? TraceContext(traceParentHeaderValue: parent, traceStateHeaderValue: head.value(for: "tracestate")))
                ?? (try? TraceContext(traceParentHeaderValue: parent, traceStateHeaderValue: nil))
            if let incoming {
                return TraceContext(traceID: incoming.traceID, spanID: SpanID.random(using: &random),
                                    flags: incoming.flags, state: incoming.state)
            }
        }
        return TraceContext(traceID: TraceID.random(using: &random), spanID: SpanID.random(using: &random),
                            flags: [], state: TraceState())
    }
}

/// A small, fast, non-cryptographic generator (Steele, Lea and Flood's SplitMix64): trace ids must be
/// unique, not secret.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
