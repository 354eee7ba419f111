#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import JustGateCore

/// `justgate keygen`: issues a site key. Only its hash goes into the config.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a new random site key and the config lines that admit it.",
        discussion: """
            The key (256 random bits, base64url) goes to the site, which sends it in X-AUTH-TOKEN. \
            The config keeps only its SHA-256, so a leaked config does not leak keys.

            Two snippets are printed: a new site's entry for the sites: list, and the line to append to an \
            existing site's keys: list when rotating (the site's old key then gets an expires: date, and both \
            work until it passes). --expires DATE puts that expiry on the new key itself: YYYY-MM-DD (refused \
            from 00:00 UTC that day) or YYYY-MM-DDTHH:MM:SSZ.

            Examples:
              justgate keygen --site horoscope-daily
              justgate keygen --site horoscope-daily --expires 2027-01-31
            """
    )

    @Option(help: "Site id to print in the config snippet.")
    var site: String = "my-site"

    @Option(help: ArgumentHelp("When the new key stops working (UTC).", valueName: "YYYY-MM-DD"))
    var expires: String?

    func validate() throws {
        guard let expires else { return }
        guard let expiry = SiteKeyExpiry.parse(expires) else {
            throw ValidationError("--expires '\(expires)' is not a date; write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)")
        }
        guard expiry.unixSeconds > Int64(time(nil)) else {
            throw ValidationError("--expires \(expires) is already past; a key that has expired is refused")
        }
    }

    func run() {
        let key = SiteKeys.generate()
        let hash = SiteKeys.sha256Hex(key)
        // A time of day has colons, which YAML reads more safely inside quotes.
        let expiry = expires.map { $0.contains(":") ? "\"\($0)\"" : $0 }
        let entry = expiry.map { "{ sha256: \"\(hash)\", expires: \($0) }" } ?? "{ sha256: \"\(hash)\" }"
        let keyLine = expires == nil ? "key_sha256: \"\(hash)\"" : "keys: [\(entry)]"
        print("""
            Site key for \(site) (give it to the site; it is not stored anywhere):
              \(key)

            A new site: add to the sites: list of the config:
              - id: \(site)
                \(keyLine)
                upstream_token: { env: JUST_TOKEN_\(site.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()) }

            Rotating an existing site's key: append this to its keys: list. To retire the old key, give it an \
            expires: date in that list (move a key_sha256 value into keys: for that); both work until then.
                keys:
                  - \(entry)
            """)
    }
}
