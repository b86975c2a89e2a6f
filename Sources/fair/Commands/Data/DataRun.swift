import FairArchive
import FairKube
import FairWorkloads
import Foundation

/// One `fair data push` or `pull`: check both ends, start the data pod, move the files, report,
/// and delete the pod whatever happened (on Ctrl-C too).
struct DataRun {
    enum Direction: String {
        case push, pull
    }

    let options: DataOptions
    let direction: Direction
    let local: String
    let claim: String

    func run() throws {
        let location = try ClaimLocation(parsing: claim)
        let talk = options.outputFormat == .text
        // The local side first: a typo costs no pod.
        let localPath = URL(fileURLWithPath: local, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .standardizedFileURL.path
        var tree: LocalTree?
        switch direction {
        case .push:
            guard FileManager.default.fileExists(atPath: localPath) else { throw InputError(description: "\(local) does not exist") }
            tree = try LocalTree.walk(localPath)
        case .pull:
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: localPath, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw InputError(description: "\(local) is a file; fair data pull copies into a directory")
            }
        }

        let client = try options.cluster.client()
        let namespace = options.cluster.namespace(for: client)
        let image = try DataPodImage.resolve(options, client: client, talk: talk)
        var pod = DataPod(name: DataPod.name(for: location.claim), namespace: namespace, location: location, image: image,
                          readOnly: direction == .pull)
        pod.idleTimeoutSeconds = 300
        let session = DataPodSession(client: client, pod: pod)
        session.startTimeout = TimeInterval(options.timeout)
        let cleanup = "fair-data-pod-\(pod.name)"
        TemporaryFiles.registerCleanup(cleanup) { session.stop() }
        Interrupts.message = "interrupted; the files copied so far stay, and the same command resumes from there"
        defer {
            TemporaryFiles.unregisterCleanup(cleanup)
            session.stop()
        }
        if talk { Console.progress("starting data pod \(pod.name) for \(location) in namespace \(namespace)") }
        try session.start { if talk { Console.progress($0) } }

        let display = DataTransferDisplay(verb: direction == .push ? "pushing" : "pulling", quiet: !talk)
        let started = Date()
        let summary: DataTransferSummary
        do {
            switch direction {
            case .push:
                var push = DataPush(endpoint: session.endpoint)
                push.jobs = options.jobs
                push.events = display.handle
                summary = try push.run(tree!)
            case .pull:
                var pull = DataPull(endpoint: session.endpoint)
                pull.jobs = options.jobs
                pull.events = display.handle
                summary = try pull.run(into: localPath)
            }
        } catch {
            display.finish()
            throw error
        }
        display.finish()
        let seconds = Date().timeIntervalSince(started)
        report(summary, seconds: seconds, location: location, namespace: namespace, pod: pod.name, image: image, localPath: localPath, talk: talk)
    }

    private func report(_ summary: DataTransferSummary, seconds: Double, location: ClaimLocation, namespace: String, pod: String,
                        image: String, localPath: String, talk: Bool) {
        for (index, skipped) in summary.skipped.enumerated() where talk {
            if index == 10 {
                Console.warning("\(summary.skipped.count - 10) more entries skipped")
                break
            }
            Console.warning("skipped \(skipped.path): \(skipped.why)")
        }
        let rate = seconds > 0 ? Double(summary.transferredBytes) / seconds : 0
        if talk {
            let files = "\(summary.transferredFiles) file\(summary.transferredFiles == 1 ? "" : "s") (\(Console.humanSize(summary.transferredBytes)))"
            var line = direction == .push ? "pushed \(files) to \(location)" : "pulled \(files) from \(location) into \(localPath)"
            line += String(format: " in %.1fs", seconds)
            if summary.transferredBytes > 0 { line += " (\(Console.humanSize(Int64(rate)))/s)" }
            if summary.unchangedFiles > 0 { line += "; \(summary.unchangedFiles) already there" }
            Console.progress(line)
            return
        }
        Console.json([
            "direction": .string(direction.rawValue),
            "location": .string(location.description), "claim": .string(location.claim), "path": .string(location.path),
            "namespace": .string(namespace), "local": .string(localPath), "pod": .string(pod), "image": .string(image),
            "files": .int(Int64(summary.files)), "bytes": .int(summary.bytes),
            "transferredFiles": .int(Int64(summary.transferredFiles)), "transferredBytes": .int(summary.transferredBytes),
            "unchangedFiles": .int(Int64(summary.unchangedFiles)),
            "skipped": .array(summary.skipped.map { ["path": .string($0.path), "why": .string($0.why)] }),
            "seconds": .double(seconds), "bytesPerSecond": .double(rate),
        ])
    }
}
