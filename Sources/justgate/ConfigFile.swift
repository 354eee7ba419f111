import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore

/// `--config PATH`, shared by the commands that read a config.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML config file.")
    var config: String = "config/justgate.yaml"
}

/// Reading and checking a config file, with problems printed the way `check-config` shows them.
enum ConfigFile {
    /// Loads and checks the file; prints every problem and warning to stderr. Nil when there were errors.
    static func load(_ path: String) -> (config: GatewayConfig, warnings: [ConfigProblem])? {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            printError("\(path): cannot read the config file (\(error.localizedDescription)); pass --config with the right path.")
            return nil
        }
        switch ConfigLoader.load(yaml: text, knownOperations: Catalogue().ids) {
        case .success(let loaded):
            return loaded
        case .failure(let errors):
            for problem in errors.problems { printError("\(path):\(problem)") }
            return nil
        }
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
