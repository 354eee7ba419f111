/// The version sites see in `User-Agent` and operators in `--version`.
public enum JustGateVersion {
    public static let current = "0.1.0"
    public static let userAgent = "justgate/\(current)"

    /// The major.minor of the Swift compiler that built this binary, for `justgate_build_info`: the runtime is
    /// linked in, so the compiler is part of what an operator runs.
    public static let swift: String = {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()
}
