import Foundation

/// What a runtime calls itself in `status.nodeInfo.containerRuntimeVersion` ("runc://1.1.5") and
/// in container ids ("runc://<id>"). Runtimes that do not adopt it are taken to be runc.
public protocol ContainerRuntimeIdentity {
    var runtimeName: String { get }
    var runtimeVersion: String { get }
}

/// The name and version the agent reports for `runtime`.
struct RuntimeDescription: Sendable {
    var name: String
    var version: String

    init(_ runtime: ContainerRuntime) {
        if let identity = runtime as? ContainerRuntimeIdentity {
            name = identity.runtimeName
            version = identity.runtimeVersion
        } else {
            name = "runc"
            version = Self.runcVersion
        }
    }

    /// `runc --version` prints "runc version 1.1.5" first; asked once per process.
    private static let runcVersion: String = {
        guard let output = try? HostCommand.run("runc", ["--version"]),
              let first = output.split(separator: "\n").first else { return "unknown" }
        return first.split(separator: " ").last.map(String.init) ?? "unknown"
    }()
}
