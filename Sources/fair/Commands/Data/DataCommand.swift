import ArgumentParser

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Copy files into and out of PersistentVolumeClaims (datasets, checkpoints, results).",
        discussion: """
        Both directions go through a short-lived pod that mounts the claim and serves it over HTTP, \
        reached through the API server's pod proxy, so they work on any cluster. Files stream (none \
        is held in memory whole), each appears whole or not at all, and a file already there with the \
        same SHA-256 is not sent again: run a transfer that was cut short again to resume it. Nothing \
        is ever deleted on the receiving side. Symbolic links and special files are skipped, with a warning.
        """,
        subcommands: [DataPushCommand.self, DataPullCommand.self])
}

struct DataPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy a local directory (or file) into a claim: fair data push DIR pvc:NAME[:PATH].",
        discussion: "PATH is a directory in the claim (its root by default), made if missing. File modes are kept.")

    @Argument(help: "The local directory or file to copy.", completion: .directory)
    var source: String

    @Argument(help: ArgumentHelp("Where in the claim.", valueName: "pvc:NAME[:PATH]"))
    var destination: String

    @OptionGroup var options: DataOptions

    func run() throws {
        Interrupts.install()
        try reportingFailures { try DataRun(options: options, direction: .push, local: source, claim: destination).run() }
    }
}

struct DataPullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Copy a claim's directory into a local one: fair data pull pvc:NAME[:PATH] DIR.",
        discussion: "DIR is made if missing. The claim is mounted read-only for a pull. File modes are kept.")

    @Argument(help: ArgumentHelp("What to copy from the claim.", valueName: "pvc:NAME[:PATH]"))
    var source: String

    @Argument(help: "The local directory to copy into.", completion: .directory)
    var destination: String

    @OptionGroup var options: DataOptions

    func run() throws {
        Interrupts.install()
        try reportingFailures { try DataRun(options: options, direction: .pull, local: destination, claim: source).run() }
    }
}
