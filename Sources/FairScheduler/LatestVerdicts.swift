import Foundation

/// The newest unschedulable message decided for each waiting pod. Status writes run on a pool,
/// so two verdicts on one pod can land out of order; a write retried after a conflict goes
/// ahead only if it still carries the newest verdict.
final class LatestVerdicts: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String: String] = [:]

    func decided(_ key: String, _ message: String) {
        lock.lock(); defer { lock.unlock() }
        messages[key] = message
    }

    func isNewest(_ key: String, _ message: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return messages[key] == message
    }

    func forget(_ key: String) {
        lock.lock(); defer { lock.unlock() }
        messages[key] = nil
    }
}
