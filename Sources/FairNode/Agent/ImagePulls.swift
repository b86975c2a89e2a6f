import FairRegistry
import FairSupport
import Foundation

/// Image preparation off the pod's sync: a pull may take minutes, and while it runs the pod
/// should already say `ContainerCreating`. A sync asks for a key; the first ask starts the pull
/// on the shared pool and waits briefly (a cached image answers at once), later asks collect the
/// result. When a pull finishes, `finished` is told which pod to sync again.
final class ImagePulls: @unchecked Sendable {
    enum Outcome {
        case ready(PreparedImage)
        case failed(Error)
        case pending
    }

    private enum Entry {
        case running
        case done(Result<PreparedImage, Error>)
    }

    private let runtime: ContainerRuntime
    private let pool: ThreadPool
    private let finished: (String) -> Void
    private let condition = NSCondition()
    private var entries: [String: Entry] = [:]

    init(runtime: ContainerRuntime, pool: ThreadPool, finished: @escaping (_ notify: String) -> Void) {
        self.runtime = runtime
        self.pool = pool
        self.finished = finished
    }

    /// The result for `key` (unique per container start attempt), starting the pull if needed
    /// and waiting up to `wait` for it. A collected result is forgotten.
    func outcome(for key: String, image: String, pullPolicy: String, credentials: @escaping () -> PullCredentials,
                 notify: String, wait: TimeInterval) -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        if entries[key] == nil {
            entries[key] = .running
            let runtime = self.runtime
            pool.submit { [self] in
                let result = Result { try runtime.prepare(image: image, pullPolicy: pullPolicy, credentials: credentials()) }
                condition.lock()
                let wanted = entries[key] != nil
                if wanted { entries[key] = .done(result) }
                condition.broadcast()
                condition.unlock()
                if wanted { finished(notify) }
            }
        }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            if case let .done(result)? = entries[key] {
                entries[key] = nil
                switch result {
                case let .success(image): return .ready(image)
                case let .failure(error): return .failed(error)
                }
            }
            if !condition.wait(until: deadline) { return .pending }
        }
    }

    /// Drops every result of a pod that is going away.
    func forget(prefix: String) {
        condition.lock(); defer { condition.unlock() }
        for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
    }
}
