import Synchronization

/// An in-memory stand-in for the Just Services profiles API, so justgate can be demonstrated and tested
/// end to end (`upstream.url: sandbox`, `justgate sandbox`) without a real upstream account or network.
///
/// It is a pure request → response function over state: the socket glue hands it decoded requests and writes
/// back whatever it returns. One instance is shared by all event loops; state sits behind a `Mutex`, and the
/// injected clock and JUID generator are called outside the lock so they may do anything.
///
/// Data is partitioned by X-AUTH-TOKEN, because upstream a JUID is valid only on the site (token) that
/// created it. Checks run in this order: token, path, method, an error forced by `failures`, then the
/// operation's own rules. The reference names no status codes; every status below is the sandbox's choice.
///
/// | Situation | Status | Body (`text/plain` unless noted) |
/// |---|---|---|
/// | X-AUTH-TOKEN missing or not one of `tokens` | 401 | `Invalid token` |
/// | Unknown path, including a channel the endpoint lacks | 404 | `Not found` |
/// | Known path, method not accepted there | 405 | `Method not allowed` |
/// | `failures` forces an error on the operation | its status | its text |
/// | profile.create succeeded | 200 | the new JUID (32 lowercase hex) |
/// | profile.create: `birthDate` not an integer, or a field over 255 characters | 400 | `Error save data` |
/// | profile.create: capacity reached, or no unique valid JUID from the generator | 500 | `Error save data` |
/// | subscribe succeeded (new, or re-subscribe updating it) | 200 | empty |
/// | subscribe.email: `juid` empty, or `email` missing or without `@` | 400 | `JuId empty / Not validate email` |
/// | subscribe.sms: `juid` empty | 400 | `JuId empty` |
/// | subscribe.sms: `number` missing or not digits | 400 | `Not validate number` |
/// | subscribe: `juid` not 32 hex, or unknown in this project | 404 | `User not found` |
/// | subscribe: a field over 255 characters | 400 | `Error save data` |
/// | subscribe: the profile already holds 64 subscriptions | 500 | `Error save data` |
/// | unsubscribe succeeded (also when already inactive) | 200 | empty |
/// | unsubscribe: `juid` empty | 400 | `JuId is missing` |
/// | unsubscribe: the address (`email` / `number`) empty | 400 | `Mandatory parameter is missing` |
/// | unsubscribe: `juid` not 32 hex, or unknown | 404 | `User not found` |
/// | unsubscribe: the user has no subscription with that address | 404 | `Subscription not found` |
/// | utm.update succeeded (push: any well-formed update) | 200 | `Metrics updated` |
/// | utm.update: `data` missing, not a JSON object, no valid address key (`email` / `number`), no updatable field, or a field that is not text, number or null | 400 | `Invalid data` |
/// | utm.update: no email / SMS subscription with that address | 422 | `Unprocessable Entity` |
/// | action.save succeeded | 200 | `Request accepted` |
/// | action.save: `juid` empty | 400 | `JuId is missing` |
/// | action.save: `tags` or `label` empty | 400 | `Mandatory parameter is missing` |
/// | action.save: `juid` not 32 hex, or unknown | 404 | `User not found` |
/// | action.save: a field over 255 characters | 400 | `Error save data` |
/// | segments.get succeeded | 200 | `application/json` array, e.g. `[3,35,36]` |
/// | segments.get: `juid` empty | 400 | `JUID not found` |
/// | segments.get: `juid` not 32 hex, or unknown | 404 | `User not found` |
/// | stat.count_by_refid succeeded | 200 | `application/json` `[{"subscount":1,"refid":"..."}]` |
/// | stat.count_by_refid: `startDate` / `endDate` missing, not integers, or start after end | 400 | `Invalid startDate or endDate` |
/// | stat.count_by_refid: no subscription in the range | 404 | `User not found` |
/// | stat.count_by_refid / stat.by_refid: a bound outside years 1000-9999 | 500 | `Error query` |
/// | stat.by_refid succeeded (`{}` when nothing is in the range) | 200 | `application/json` `{"2020-08-11":{"ch-...":1}}` |
/// | stat.by_refid: `start` / `end` not `YYYY-MM-DD HH:MM:SS`, impossible, or start after end | 400 | `Invalid start or end date` |
/// | stat.by_refid: only when forced by `failures` | 503 | `Error service` |
///
/// Accepted methods: POST for create/subscribe/action; PUT or POST for unsubscribe and utm.update; GET or POST
/// for segments (`/info/segment` and `/info/segments`); GET for statistics (`/info/stat-by-refid/...` and
/// `/stat/stat-by-refid/...`). Trailing slashes are optional everywhere. Empty fields count as missing.
///
/// Segments are derived, not stored: every numeric action tag, plus 35 while an email subscription is active
/// and 36 while an SMS subscription is active; sorted and unique. Statistics count every subscription
/// (active or not) whose first subscribe time lies in the inclusive range; a missing refid groups as `""`.
public final class SandboxAPI: Sendable {
    private let acceptedTokens: Mutex<Set<String>>
    let clock: @Sendable () -> Int64
    let juidGenerator: @Sendable () -> String
    let store: Mutex<SandboxStore>
    let failures: SandboxFailures
    private let journal = Mutex(RequestJournal())

    /// The default bound on stored profiles: far beyond any demo, small enough to never exhaust memory.
    public static let defaultProfileCapacity = 100_000

    /// Creates an empty sandbox.
    ///
    /// - Parameters:
    ///   - tokens: the X-AUTH-TOKEN values to accept; each is a separate project with its own profiles.
    ///   - clock: the current Unix time in seconds, injected so tests can place subscriptions in time.
    ///   - juidGenerator: the source of new JUIDs, injected so tests get predictable ones; defaults to
    ///     128 random bits from `SystemRandomNumberGenerator`.
    ///   - profileCapacity: the most profiles kept across all projects, bounding memory in long demos.
    ///   - failures: errors to answer instead of doing the work (`justgate sandbox --fail`); none by default.
    public init(
        tokens: Set<String>,
        clock: @escaping @Sendable () -> Int64,
        juidGenerator: (@Sendable () -> String)? = nil,
        profileCapacity: Int = SandboxAPI.defaultProfileCapacity,
        failures: SandboxFailures = SandboxFailures()
    ) {
        self.failures = failures
        self.acceptedTokens = Mutex(tokens)
        self.clock = clock
        self.juidGenerator = juidGenerator ?? { JUIDGenerator.random() }
        self.store = Mutex(SandboxStore(capacity: profileCapacity))
    }

    /// The tokens accepted from now on, as when the upstream's owner issues new ones (a gateway reload
    /// with rotated tokens). Data stays with the token it was made under.
    public func accept(tokens: Set<String>) {
        acceptedTokens.withLock { $0 = tokens }
    }

    /// Answers one request as the upstream would; see the type's table for every status and body.
    public func handle(_ request: SandboxRequest) -> SandboxResponse {
        journal.withLock { $0.record(request) }
        guard let project = request.token, acceptedTokens.withLock({ $0.contains(project) }) else {
            return .text(401, "Invalid token")
        }
        guard let route = SandboxRoute(path: request.path) else {
            return .text(404, "Not found")
        }
        guard route.allowedMethods.contains(request.method) else {
            return .text(405, "Method not allowed")
        }
        if let forced = failures.error(for: route.operationID) {
            return forced.response
        }
        let now = clock()
        switch route {
        case .createProfile: return createProfile(request, project: project, now: now)
        case .subscribe(let channel): return subscribe(channel, request, project: project, now: now)
        case .unsubscribe(let channel): return unsubscribe(channel, request, project: project)
        case .updateUTM(let channel): return updateUTMMetrics(channel, request, project: project)
        case .saveAction: return saveAction(request, project: project)
        case .segments: return segments(request, project: project)
        case .countByRefid(let channel): return countByRefid(channel, request, project: project)
        case .statByRefid(let channel): return statByRefid(channel, request, project: project)
        }
    }

    /// What the sandbox last received (up to 256, oldest first), including rejected requests, so tests can
    /// assert exactly what the gateway forwarded: method, path, fields and token.
    public func receivedRequests() -> [SandboxRequest] {
        journal.withLock { $0.chronological }
    }

    /// Forgets all profiles, subscriptions, actions and received requests, so one instance can serve
    /// several independent test cases or demo runs.
    public func reset() {
        store.withLock { $0 = SandboxStore(capacity: $0.capacity) }
        journal.withLock { $0 = RequestJournal() }
    }
}
