import Foundation

/// Runs `body` for every item on up to `jobs` threads. The first error stops new items from
/// starting and is rethrown once the running ones have finished.
func forEachInParallel<T>(_ items: [T], jobs: Int, _ body: @escaping (T) throws -> Void) throws {
    if items.isEmpty { return }
    let queue = WorkQueue(items)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(jobs, items.count)) {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            while let item = queue.take() {
                do {
                    try body(item)
                } catch {
                    queue.fail(error)
                    return
                }
            }
        }
    }
    group.wait()
    if let error = queue.firstError { throw error }
}

/// The shared state of a parallel loop: the next item to hand out and the first error.
private final class WorkQueue<T>: @unchecked Sendable {
    private let items: [T]
    private var next = 0
    private var error: Error?
    private let lock = NSLock()

    init(_ items: [T]) { self.items = items }

    func take() -> T? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, next < items.count else { return nil }
        next += 1
        return items[next - 1]
    }

    func fail(_ error: Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    var firstError: Error? {
        lock.lock(); defer { lock.unlock() }
        return error
    }
}
