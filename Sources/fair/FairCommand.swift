import ArgumentParser

@main
struct Fair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fair",
        abstract: "Package Python training code as OCI images, train it and serve the model.",
        version: FairVersion.current,
        subcommands: [BuildCommand.self, TrainCommand.self, LogsCommand.self, StatusCommand.self, DeleteCommand.self, ServeCommand.self, PredictCommand.self, UndeployCommand.self, ModelsCommand.self, SecretCommand.self, DataCommand.self, PushCommand.self, PullCommand.self, LoginCommand.self, LogoutCommand.self, BaseCommand.self, ServerCommand.self, NodeCommand.self, VersionCommand.self, ContainerLogWriterCommand.self])
}

enum FairVersion {
    static let current = "0.1.0"
}
