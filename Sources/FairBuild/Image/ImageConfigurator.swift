import FairOCI
import Foundation

/// Derives the new image's config from the base's: environment, entrypoint, workdir, labels,
/// diff_ids and history. Everything time-like is the build epoch, so the config is reproducible.
struct ImageConfigurator {
    let project: ProjectConfig
    let scriptPath: String
    let epoch: Int64
    var addition: ImageAddition?

    static let pythonVersionLabel = "dev.fair.python.version"
    static let glibcVersionLabel = "dev.fair.glibc.version"

    var created: String { Self.timestamp(epoch) }

    static func timestamp(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }

    func makeConfig(base: ImageConfig?, platform: Platform, layers: [(diffID: Digest, createdBy: String, comment: String)], hasDeps: Bool) -> ImageConfig {
        var execution = base?.config ?? ImageConfig.ExecutionConfig()
        if execution.environmentValue("PATH") == nil {
            execution.setEnvironment("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        if hasDeps {
            let sitePackages = DependencyLayer.sitePackages
            let existing = execution.environmentValue("PYTHONPATH").flatMap { $0.isEmpty ? nil : $0 }
            execution.setEnvironment("PYTHONPATH", existing.map { "\(sitePackages):\($0)" } ?? sitePackages)
            execution.setEnvironment("PATH", "\(sitePackages)/bin:" + (execution.environmentValue("PATH") ?? ""))
        }
        // Training logs are followed live; an unbuffered interpreter makes them arrive as printed.
        execution.setEnvironment("PYTHONUNBUFFERED", "1")
        for variable in project.env {
            execution.setEnvironment(variable.name, variable.value)
        }
        execution.Entrypoint = ["python3", scriptPath]
        // As with a Dockerfile ENTRYPOINT, the base's Cmd no longer applies: Cmd is the project's args.
        execution.Cmd = project.args.isEmpty ? nil : project.args
        execution.WorkingDir = project.workdir
        if let addition {
            execution.Entrypoint = addition.entrypoint
            execution.Cmd = addition.cmd
            for variable in addition.env { execution.setEnvironment(variable.name, variable.value) }
        }

        var labels = execution.Labels ?? [:]
        for (key, value) in project.labels { labels[key] = value }
        labels["org.opencontainers.image.title"] = project.name
        labels["dev.fair.source"] = project.entrypoint
        labels["dev.fair.entrypoint"] = scriptPath
        if let source = project.source { labels["org.opencontainers.image.source"] = source }
        for (key, value) in addition?.labels ?? [:] { labels[key] = value }
        execution.Labels = labels

        var history = base?.history ?? []
        var diffIDs = base?.rootfs.diff_ids ?? []
        for layer in layers {
            diffIDs.append(layer.diffID)
            history.append(ImageConfig.History(created: created, createdBy: layer.createdBy, comment: layer.comment))
        }
        return ImageConfig(
            created: created, architecture: platform.architecture, os: platform.os, variant: platform.variant,
            config: execution, rootfs: ImageConfig.RootFS(diffIDs: diffIDs), history: history)
    }
}
