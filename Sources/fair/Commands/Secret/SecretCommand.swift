import ArgumentParser

struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Secrets that training and serving read (see fair train --secret).",
        subcommands: [SecretCreateCommand.self])
}
