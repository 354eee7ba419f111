import ArgumentParser
import JustGateApp

/// The `justgate` command: the gateway, its sandbox upstream, and the tools operators need around them.
@main
struct JustGateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "justgate",
        abstract: "A validating, token-injecting gateway for the Just Services profiles API.",
        discussion: """
            Sites call justgate with the paths and bodies they used to send to the Just Services API, \
            carrying a site key that justgate issued. justgate validates and normalises every field, \
            injects the site's real X-AUTH-TOKEN and forwards the call.

            Quick start:
              justgate serve --config config/justgate.yaml
              curl -H 'X-AUTH-TOKEN: <site key>' --form 'ip=8.8.8.8' \\
                   http://127.0.0.1:8080/api/user/v1/subscription/create/profile
            """,
        version: JustGateVersion.current,
        subcommands: [Serve.self, Sandbox.self, Keygen.self, Sites.self, CheckConfig.self, Health.self, OpenAPI.self, Audit.self,
                      OutboxCommand.self]
    )
}
