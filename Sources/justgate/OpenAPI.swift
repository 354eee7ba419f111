import ArgumentParser
import JustGateApp
import JustGateCore
import JustGateOpenAPI

/// `justgate openapi`: the site-facing contract, generated from the catalogue that enforces it.
struct OpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the OpenAPI 3.1 description of the site-facing API.",
        discussion: """
            Generated from the same operation catalogue and field rules the gateway enforces, so it cannot \
            drift from them; docs/openapi.yaml is this output, checked by the test suite.

            Example: justgate openapi > docs/openapi.yaml
            """
    )

    func run() {
        print(OpenAPIDocument.yaml(version: JustGateVersion.current), terminator: "")
    }
}
