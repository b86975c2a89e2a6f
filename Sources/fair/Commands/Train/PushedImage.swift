import FairBuild
import FairOCI
import FairRegistry
import Foundation

/// A project built and pushed in one go (as `fair build --push`), with how long each took: the
/// training image, or with an addition (`fair serve`'s model server) the serving image.
struct PushedImage {
    var digest: Digest
    var buildSeconds: Double
    var pushSeconds: Double
    /// The image's PYTHONPATH, which a training container extends.
    var pythonPath: String?
    /// The image's Entrypoint and Cmd.
    var command: [String] = []

    static func buildAndPush(directory: String, entrypoint: String? = nil, file: String?, base: String?, registries: RegistryClients,
                             reference: String, addition: ImageAddition? = nil, extraRequirements: [String] = [],
                             talk: Bool) throws -> PushedImage {
        var options = BuildOptions(projectDirectory: directory)
        options.entrypoint = entrypoint
        options.configFile = file
        options.base = base
        options.push = reference
        options.epoch = try BuildOptions.epoch(from: ProcessInfo.processInfo.environment)
        options.addition = addition
        options.extraRequirements = extraRequirements
        let display = TransferDisplay(verb: "pushing", quiet: !talk)
        let started = Date()
        let firstPush = FirstTime()
        var builder = ImageBuilder(options: options, registries: registries,
                                   log: { if talk { Console.progress($0) } })
        builder.pushEvents = { event in
            firstPush.mark()
            display.handle(event)
        }
        let result: BuildResult
        do {
            result = try builder.build()
        } catch {
            display.finish()
            throw error
        }
        display.finish()
        for warning in result.warnings { Console.warning(warning) }
        let ended = Date()
        let pushStarted = firstPush.value ?? ended
        return PushedImage(digest: result.digest, buildSeconds: pushStarted.timeIntervalSince(started),
                           pushSeconds: ended.timeIntervalSince(pushStarted), pythonPath: result.pythonPath, command: result.command)
    }
}

/// The first time something happened, from whichever thread saw it.
final class FirstTime: @unchecked Sendable {
    private let lock = NSLock()
    private var time: Date?

    func mark() {
        lock.lock()
        if time == nil { time = Date() }
        lock.unlock()
    }

    var value: Date? {
        lock.lock()
        defer { lock.unlock() }
        return time
    }
}
