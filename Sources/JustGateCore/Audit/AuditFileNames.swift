/// How the files of one audit log are named and ordered. The live file is `audit.path` (`audit.jsonl`); when
/// it reaches `audit.rotate_bytes` it is renamed `audit.jsonl.<n>`, with `n` one more than the newest rotated
/// file, so the numbers say the order and a hole in them shows a file missing from the middle.
public enum AuditFileNames {
    /// The name a live file `base` gets when rotated as number `number`.
    public static func rotated(_ base: String, number: Int) -> String {
        "\(base).\(number)"
    }

    /// The rotation number of `name` if it is a rotated file of `base`, else `nil`.
    public static func rotationNumber(of name: String, base: String) -> Int? {
        guard name.hasPrefix(base + "."), let number = Int(name.dropFirst(base.count + 1)), number > 0,
              String(number) == name.dropFirst(base.count + 1)
        else { return nil }
        return number
    }

    /// The files of the log named `base` among `names` (a directory listing), oldest first, live file last.
    public static func ordered(_ names: [String], base: String) -> [String] {
        let rotated = names.compactMap { name in rotationNumber(of: name, base: base).map { (name, $0) } }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
        return rotated + (names.contains(base) ? [base] : [])
    }
}
