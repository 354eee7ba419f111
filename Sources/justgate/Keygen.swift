import ArgumentParser
import JustGateCore

/// `justgate keygen`: issues a site key. Only its hash goes into the config.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a new random site key and the config line that admits it.",
        discussion: """
            The key (256 random bits, base64url) goes to the site, which sends it in X-AUTH-TOKEN. \
            The config keeps only its SHA-256, so a leaked config does not leak keys.

            Example: justgate keygen --site horoscope-daily
            """
    )

    @Option(help: "Site id to print in the config snippet.")
    var site: String = "my-site"

    func run() {
        let key = SiteKeys.generate()
        print("""
            Site key for \(site) (give it to the site; it is not stored anywhere):
              \(key)

            Add to the sites: list of the config:
              - id: \(site)
                key_sha256: "\(SiteKeys.sha256Hex(key))"
                upstream_token: { env: JUST_TOKEN_\(site.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()) }
            """)
    }
}
