import ArgumentParser
import FairKube
import FairWorkloads

/// `fair version`, as `kubectl version --client` and `docker version` answer: the version on
/// standard output, or JSON for scripts.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print fair's version.")

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    func run() throws {
        switch outputFormat {
        case .text: Console.result("fair \(FairVersion.current)")
        case .json: Console.json(["version": .string(FairVersion.current)])
        }
    }
}
