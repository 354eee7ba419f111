/// All sandbox state, partitioned by project token.
///
/// Upstream, a JUID is only valid "within the site on which the profile was created", and the token is what
/// identifies the site. Partitioning by token reproduces that: a JUID created with one token is "User not found"
/// with another, which lets gateway tests catch a site key mapped to the wrong token.
struct SandboxStore: Sendable {
    /// token → JUID → profile.
    private var projects: [String: [String: SandboxProfile]] = [:]
    /// Profiles across all projects, checked against `capacity`.
    private(set) var profileCount = 0
    /// The most profiles the sandbox holds before creation fails.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Why a new profile could not be stored.
    enum InsertFailure: Error, Equatable {
        /// The JUID already names a profile in this project.
        case duplicate
        /// The sandbox holds `capacity` profiles already.
        case full
    }

    /// Stores a new profile, refusing duplicates and growth past `capacity`.
    mutating func insert(_ profile: SandboxProfile, project: String) -> Result<Void, InsertFailure> {
        guard profileCount < capacity else { return .failure(.full) }
        guard projects[project]?[profile.juid] == nil else { return .failure(.duplicate) }
        projects[project, default: [:]][profile.juid] = profile
        profileCount += 1
        return .success(())
    }

    /// A copy of one profile, or `nil` when the project has no such JUID.
    func profile(_ juid: String, project: String) -> SandboxProfile? {
        projects[project]?[juid]
    }

    /// Runs `body` on one profile in place and returns its result, or `nil` when the profile does not exist.
    mutating func modifyProfile<Result>(
        _ juid: String,
        project: String,
        _ body: (inout SandboxProfile) -> Result
    ) -> Result? {
        guard var profile = projects[project]?[juid] else { return nil }
        let result = body(&profile)
        projects[project]?[juid] = profile
        return result
    }

    /// Runs `body` on every subscription of `project` stored under `key`, returning how many there were.
    ///
    /// Several profiles of one site may share an address (the same person on two devices), and the UTM update
    /// identifies subscriptions by address alone, so all of them are updated.
    mutating func modifySubscriptions(
        matching key: SubscriptionKey,
        project: String,
        _ body: (inout SandboxSubscription) -> Void
    ) -> Int {
        guard let profiles = projects[project] else { return 0 }
        var matched = 0
        for (juid, profile) in profiles {
            guard var subscription = profile.subscriptions[key] else { continue }
            body(&subscription)
            projects[project]?[juid]?.subscriptions[key] = subscription
            matched += 1
        }
        return matched
    }

    /// Every subscription of `project` on `channel`, for the statistics endpoints.
    func subscriptions(on channel: SandboxChannel, project: String) -> [SandboxSubscription] {
        guard let profiles = projects[project] else { return [] }
        var result: [SandboxSubscription] = []
        for profile in profiles.values {
            for (key, subscription) in profile.subscriptions where key.channel == channel {
                result.append(subscription)
            }
        }
        return result
    }
}
