import FairBuild
import FairOCI
import Foundation

/// The training image, built and pushed in one go (as `fair build --push`), with how long each took.
struct TrainingImage {
    var digest: Digest
    var buildSeconds: Double
    var pushSeconds: Double

    static func buildAndPush(command: TrainCommand, repository: String, talk: Bool) throws -> TrainingImage {
        var options = BuildOptions(projectDirectory: command.directory)
        options.configFile = command.file
        options.base = command.base
        options.push = "\(repository):latest"
        options.epoch = try BuildOptions.epoch(from: ProcessInfo.processInfo.environment)
        let display = TransferDisplay(verb: "pushing", quiet: !talk)
        let started = Date()
        let firstPush = FirstTime()
        var builder = ImageBuilder(options: options, registries: command.registryOptions.clients(),
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
        return TrainingImage(digest: result.digest, buildSeconds: pushStarted.timeIntervalSince(started),
                             pushSeconds: ended.timeIntervalSince(pushStarted))
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
