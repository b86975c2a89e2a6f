import ArgumentParser
import FairRegistry
import Foundation

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry (stored in the docker config, as docker login does).")

    @Argument(help: "Registry host[:port].")
    var server: String

    @Option(name: [.customShort("u"), .long], help: "User name.")
    var username: String

    @Flag(help: "Read the password from standard input.")
    var passwordStdin = false

    @Option(name: [.customShort("p"), .long], help: "Password (visible in process lists; prefer --password-stdin).")
    var password: String?

    @OptionGroup var registry: RegistryConnectionOptions

    func run() throws {
        try reportingFailures {
            let secret: String
            if passwordStdin {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            } else if let password {
                Console.warning("a password on the command line is visible to other users; use --password-stdin")
                secret = password
            } else {
                throw ValidationError("give the password with --password-stdin (or --password)")
            }
            guard !secret.isEmpty else { throw ValidationError("the password is empty") }
            let host = Self.host(of: server)
            let credentials = Credentials(username: username, password: secret)
            let clients = registry.clients()
            let client = RegistryClient(host: host, credentials: credentials, http: clients.http, insecureHosts: clients.insecureHosts)
            try client.verifyLogin()
            try clients.dockerConfig.store(credentials, for: host)
            Console.result("Login Succeeded")
        }
    }

    /// Accepts `https://host/` style input as docker does.
    static func host(of server: String) -> String {
        var host = Substring(server)
        for prefix in ["https://", "http://"] where host.hasPrefix(prefix) { host = host.dropFirst(prefix.count) }
        while host.hasSuffix("/") { host = host.dropLast() }
        if host == "index.docker.io" || host == "registry-1.docker.io" { return RegistryReference.dockerHub }
        return String(host.split(separator: "/").first ?? host)
    }
}

struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Forget a registry's credentials.")

    @Argument(help: "Registry host[:port].")
    var server: String

    func run() throws {
        try reportingFailures {
            let host = LoginCommand.host(of: server)
            if try DockerConfig().erase(host: host) {
                Console.result("Removed login credentials for \(host)")
            } else {
                Console.warning("not logged in to \(host)")
            }
        }
    }
}
