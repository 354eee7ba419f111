import JustGateCore
import JustGateHTTP

/// One timed operation, written once and driven by both harnesses (ordo-one/benchmark and the plain
/// clock_gettime loop), so the two can never disagree about what they measure.
public struct MicroCase: Sendable {
    /// Stable id, used as the benchmark name and the key in bench/results/micro.json.
    public let name: String
    /// What the operation is, for the README and the table.
    public let summary: String
    /// Builds the per-run state (a parser reused like a keep-alive connection reuses it) and returns a
    /// loop that performs the operation `count` times; a harness calls the loop once per sample.
    public let makeLoop: @Sendable () -> (_ count: Int) -> Void
}

/// Keeps a result alive so the optimiser cannot delete the work that produced it.
///
/// `@_optimize(none)` on an empty function is the usual way to get an opaque use in Swift; a plain
/// `@inline(never)` function can still be proven side-effect free and its call removed.
@_optimize(none)
public func sink(_ value: some Any) {}

/// Every micro-benchmark, in the order a request meets them.
public enum MicroCases {
    public static let all: [MicroCase] = [
        MicroCase(name: "http.head.parse", summary: "subscribe.sms POST head, 6 header fields") {
            var parser = HTTPRequestHeadParser()
            return { count in
                Fixtures.subscribeHeadBytes.withUnsafeBytes { raw in
                    for _ in 0..<count { sink(try? HotPath.parseHead(&parser, raw)) }
                }
            }
        },
        MicroCase(name: "sitekey.match", summary: "SHA-256 of a 34-byte key, constant-time compare with 10 site hashes") {
            let table = SiteKeyTable(hashes: (0..<10).map { SiteKeys.sha256("site-key-number-\($0)-0123456789abcdef") })
            let presented = "site-key-number-7-0123456789abcdef"
            return { count in
                for _ in 0..<count { sink(table.match(presentedKey: presented, now: 1_700_000_000)) }
            }
        },
        MicroCase(name: "router.match", summary: "percent-decoded path of subscribe.sms against the catalogue's routes") {
            let router = OperationRouter(catalogue: Catalogue())
            let path = "/api/user/v1/subscription/subscribe/sms"
            return { count in
                for _ in 0..<count { sink(router.match(method: "POST", path: path)) }
            }
        },
        MicroCase(name: "http.mediatype.parse", summary: "multipart Content-Type with boundary") {
            { count in
                for _ in 0..<count { sink(MediaType(parsing: Fixtures.multipartContentType)) }
            }
        },
        MicroCase(name: "form.urlencoded.decode", summary: "juid=…&number=8+(912)+345-67-89") {
            { count in
                Fixtures.subscribeBodyBytes.withUnsafeBytes { raw in
                    for _ in 0..<count { sink(try? URLEncodedForm.decode(raw)) }
                }
            }
        },
        MicroCase(name: "form.multipart.decode", summary: "curl --form body of action.save (3 parts)") {
            { count in
                Fixtures.multipartBodyBytes.withUnsafeBytes { raw in
                    for _ in 0..<count { sink(try? MultipartFormData.decode(raw, boundary: Fixtures.multipartBoundary)) }
                }
            }
        },
        MicroCase(name: "validate.subscribe.sms", summary: "OperationValidator, juid + number, country 7 / trunk 8") {
            let fields = Fixtures.subscribeFields
            return { count in
                for _ in 0..<count { sink(HotPath.validateSubscribeSMS(fields)) }
            }
        },
        MicroCase(name: "rule.email", summary: "email rule on Email@Example.COM") {
            let raw = "Email@Example.COM"
            return { count in
                for _ in 0..<count { sink(HotPath.normaliseEmail(raw)) }
            }
        },
        MicroCase(name: "rule.phone", summary: "phone rule on 8 (912) 345-67-89, country 7 / trunk 8") {
            let raw = "8 (912) 345-67-89"
            return { count in
                for _ in 0..<count { sink(FieldRule.phone.normalise(raw, field: "number", options: Fixtures.options)) }
            }
        },
        MicroCase(name: "rule.juid", summary: "juid rule on 32 lowercase hex digits") {
            let raw = "de6f0132ea9e412599ae31262c45633b"
            return { count in
                for _ in 0..<count { sink(FieldRule.juid.normalise(raw, field: "juid", options: Fixtures.options)) }
            }
        },
        MicroCase(name: "redact.answer.absent", summary: "upstream-token scan of a 600-byte JSON answer without the token (the common case)") {
            let token = Array("cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS".utf8)
            let answer = Array(("{\"segments\":[" + (1...150).map(String.init).joined(separator: ",")
                + "],\"juid\":\"de6f0132ea9e412599ae31262c45633b\",\"url\":\"https:\\/\\/example.com\\/a\"}").utf8)
            return { count in
                for _ in 0..<count { sink(SecretRedaction.redact(token, in: answer)) }
            }
        },
        MicroCase(name: "e2e.subscribe.sms", summary: "head parse + urlencoded decode + validate/normalise") {
            var parser = HTTPRequestHeadParser()
            return { count in
                Fixtures.subscribeRequestBytes.withUnsafeBytes { raw in
                    for _ in 0..<count { sink(try? HotPath.parseValidateNormalise(&parser, raw)) }
                }
            }
        },
        MicroCase(name: "ratelimit.gcra.decide", summary: "GCRA decision for one key (the pure math)") {
            let limit = GCRALimit(count: 1_000_000, periodMicros: 1_000_000, burst: 1_000_000)
            return { count in
                var tat: Int64 = 0
                for index in 0..<count {
                    let decision = limit.decide(storedTAT: tat, now: Int64(index))
                    tat = decision.tat
                    sink(decision)
                }
            }
        },
        MicroCase(name: "ratelimit.memory.admit", summary: "memory limiter, one existing per-number key: lock, decide, store") {
            let store = MemoryQuotaStore(maxKeys: 1_000_000)
            let policy = CompiledPolicy(RateLimitPolicy(name: "sms-per-number", scope: .number, operations: ["subscribe.sms"],
                                                        rate: RateLimitRate(count: 1_000_000, period: .second)),
                                        siteID: "horoscope-daily")
            let checks = Fixtures.quotaChecks(policy)
            _ = store.admit(checks, now: 0)
            return { count in
                // `.admitted` alone: boxing the whole verdict into `Any` would be the harness's malloc.
                for index in 0..<count { sink(store.admit(checks, now: Int64(index)).admitted) }
            }
        },
        MicroCase(name: "ratelimit.check.number", summary: "key of a per-number policy from the validated request (hash of the phone)") {
            let policy = CompiledPolicy(RateLimitPolicy(name: "sms-per-number", scope: .number,
                                                        rate: RateLimitRate(count: 3, period: .hour)), siteID: "horoscope-daily")
            let fields = Fixtures.validatedSubscribe
            return { count in
                for _ in 0..<count { sink(policy.check(operationID: "subscribe.sms", fields: fields)) }
            }
        },
        MicroCase(name: "ratelimit.header.ratelimit", summary: "RateLimit field of one policy, as written per response") {
            let standing = GCRAStanding(remaining: 2, nextQuotaMicros: 1_200_000_000)
            return { count in
                for _ in 0..<count { sink(RateLimitFields.standingItem(name: "sms-per-number", standing: standing)) }
            }
        },
        MicroCase(name: "ratelimit.header.library", summary: "the same field through swift-http-structured-headers") {
            let standing = GCRAStanding(remaining: 2, nextQuotaMicros: 1_200_000_000)
            return { count in
                for _ in 0..<count { sink(RateLimitFields.standingItemSerialised(name: "sms-per-number", standing: standing)) }
            }
        },
        MicroCase(name: "audit.personal.values", summary: "audit allowlist of the validated subscribe.sms: juid and phone picked, as a loop does") {
            let allowlist = AuditAllowlist(catalogue: Catalogue())
            let fields = Fixtures.validatedSubscribe
            return { count in
                for _ in 0..<count { sink(allowlist.personalValues(of: fields)) }
            }
        },
        MicroCase(name: "audit.body.pack", summary: "audit values of a forwarded subscribe.sms packed for the writer, as a loop does") {
            let fields = Fixtures.loopAuditFields
            let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
            return { count in
                var length = 0
                for _ in 0..<count {
                    length = AuditBodyPacket.pack(fields, durationMicros: fields.record.durationMicros) { _ in memory }
                }
                sink(length)
            }
        },
        MicroCase(name: "audit.body.encode", summary: "writer thread: that packet written as the record's JSON, path checked, phone masked") {
            let fields = Fixtures.loopAuditFields
            let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
            let packetLength = AuditBodyPacket.pack(fields, durationMicros: fields.record.durationMicros) { _ in packet }
            let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 8)
            return { count in
                var length = 0
                for _ in 0..<count {
                    length = AuditRecordEncoding.body(packet: UnsafeRawBufferPointer(rebasing: packet[0..<packetLength])) { _ in body }
                }
                sink(length)
            }
        },
        MicroCase(name: "audit.chain.seal", summary: "writer thread: time, seq, prev and HMAC-SHA-256 around that body, into the write buffer") {
            var body: [UInt8] = []
            AuditRecordEncoding.body(Fixtures.auditRecord, into: &body)
            var chain = AuditChain(hasher: AuditHasher(key: Array("bench-audit-key-0123456789abcdef".utf8)))
            var pending: [UInt8] = []
            pending.reserveCapacity(1 << 16)
            return { count in
                body.withUnsafeBytes { raw in
                    for index in 0..<count {
                        if pending.count > 60_000 { pending.removeAll(keepingCapacity: true) }
                        chain.sealRequest(unixMillis: 1_796_000_000_000 + Int64(index), body: raw, into: &pending)
                    }
                }
                sink(pending.count)
            }
        },
        MicroCase(name: "audit.hmac", summary: "the keyed hash alone: HMAC-SHA-256 of 520 bytes, about one record") {
            let hasher = AuditHasher(key: Array("bench-audit-key-0123456789abcdef".utf8))
            let data = [UInt8](repeating: 0x41, count: 520)
            var out: [UInt8] = []
            out.reserveCapacity(128)
            return { count in
                data.withUnsafeBytes { raw in
                    for _ in 0..<count { out.removeAll(keepingCapacity: true); hasher.appendHash(of: raw, to: &out) }
                }
                sink(out.count)
            }
        },
        MicroCase(name: "json.decode", summary: "JSON object, 4 string members, 119 bytes") {
            { count in
                Fixtures.jsonBodyBytes.withUnsafeBytes { raw in
                    for _ in 0..<count { sink(try? JSONParser.parse(raw)) }
                }
            }
        },
    ]
}
