import Foundation

/// Mutual exclusion per key: callers with the same key run one at a time, callers with
/// different keys run in parallel. Used so that one image is pulled once however many pods ask
/// for it at the same moment.
final class KeyedMutex: @unchecked Sendable {
    private let condition = NSCondition()
    private var held = Set<String>()

    func withLock<T>(_ key: String, _ body: () throws -> T) rethrows -> T {
        condition.lock()
        while held.contains(key) { condition.wait() }
        held.insert(key)
        condition.unlock()
        defer {
            condition.lock()
            held.remove(key)
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
