import ArgumentParser
import FairNode

/// What a node's container supervisor runs beside each container: one output stream in, CRI log
/// lines out (see `ContainerLogWriter`). Not for people, so not listed in help.
struct ContainerLogWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ContainerLogWriter.subcommand, abstract: "Stamp a container's output stream as CRI log lines.",
        shouldDisplay: false)

    @Argument(help: "stdout or stderr.")
    var stream: String

    func run() throws {
        let status = ContainerLogWriter.run(stream: stream)
        if status != 0 { throw ExitCode(status) }
    }
}
