/// A subscription channel as it appears in upstream paths (`.../channel/email`).
enum SandboxChannel: String, Sendable, CaseIterable {
    case email
    case sms
    case push
}

/// Which operation a path names, resolved before the method is checked so a known path with the wrong
/// method answers 405 rather than 404.
enum SandboxRoute: Equatable, Sendable {
    case createProfile
    case subscribe(SandboxChannel)
    case unsubscribe(SandboxChannel)
    case updateUTM(SandboxChannel)
    case saveAction
    case segments
    case countByRefid(SandboxChannel)
    case statByRefid(SandboxChannel)

    /// The operation's id as justgate's catalogue names it, which is how `--fail` refers to it.
    var operationID: String {
        switch self {
        case .createProfile: "profile.create"
        case .subscribe(let channel): "subscribe." + channel.rawValue
        case .unsubscribe(let channel): "unsubscribe." + channel.rawValue
        case .updateUTM: "utm.update"
        case .saveAction: "action.save"
        case .segments: "segments.get"
        case .countByRefid: "stat.count_by_refid"
        case .statByRefid: "stat.by_refid"
        }
    }

    /// The methods the real upstream tolerates on this path; the canonical one comes first.
    var allowedMethods: [String] {
        switch self {
        case .createProfile, .subscribe, .saveAction: ["POST"]
        case .unsubscribe, .updateUTM: ["PUT", "POST"]
        case .segments: ["GET", "POST"]
        case .countByRefid, .statByRefid: ["GET"]
        }
    }

    /// Resolves a decoded path, or returns `nil` for anything the upstream does not serve.
    ///
    /// Empty segments are dropped, which makes the trailing slash (and a missing leading slash, as in the
    /// reference's `api/user/v1/...` heading) optional everywhere. Channels outside what an endpoint supports
    /// make the whole path unknown, because on the upstream the channel is part of the route.
    init?(path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard segments.count >= 4, segments[0] == "api", segments[1] == "user", segments[2] == "v1" else {
            return nil
        }
        guard let route = Self.match(Array(segments.dropFirst(3))) else { return nil }
        self = route
    }

    private static func match(_ rest: [String]) -> SandboxRoute? {
        switch rest.count {
        case 1:
            return rest[0] == "action" ? .saveAction : nil
        case 2:
            if rest[0] == "info", rest[1] == "segment" || rest[1] == "segments" { return .segments }
            return nil
        case 3:
            switch (rest[0], rest[1]) {
            case ("subscription", "create"):
                return rest[2] == "profile" ? .createProfile : nil
            case ("subscription", "subscribe"):
                return addressChannel(rest[2]).map(SandboxRoute.subscribe)
            case ("subscription", "unsubscribe"):
                return addressChannel(rest[2]).map(SandboxRoute.unsubscribe)
            case ("stat", "get-count-refid"):
                return addressChannel(rest[2]).map(SandboxRoute.countByRefid)
            default:
                return nil
            }
        case 4:
            let isStatByRefid = (rest[0] == "info" || rest[0] == "stat") && rest[1] == "stat-by-refid"
            guard isStatByRefid, rest[2] == "channel" else { return nil }
            return addressChannel(rest[3]).map(SandboxRoute.statByRefid)
        case 5:
            guard rest[0] == "subscription", rest[1] == "update", rest[2] == "utm-metric", rest[3] == "channel"
            else { return nil }
            return SandboxChannel(rawValue: rest[4]).map(SandboxRoute.updateUTM)
        default:
            return nil
        }
    }

    /// Only email and SMS have an address (and so subscribe, unsubscribe and statistics endpoints);
    /// push appears solely in the UTM update path.
    private static func addressChannel(_ text: String) -> SandboxChannel? {
        switch text {
        case "email": .email
        case "sms": .sms
        default: nil
        }
    }
}
