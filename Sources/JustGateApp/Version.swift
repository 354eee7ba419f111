/// The version sites see in `User-Agent` and operators in `--version`.
public enum JustGateVersion {
    public static let current = "0.1.0"
    public static let userAgent = "justgate/\(current)"
}
