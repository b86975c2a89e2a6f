import Foundation

/// Mutual exclusion per key (an image, a container, an upload session): holders of the same
/// key run one at a time, in the order they asked; different keys run in parallel. Blocking
/// callers wait on a semaphore, async callers suspend, and both can share one lock.
public final class KeyedLock: @unchecked Sendable {
    private enum Waiter {
        case thread(DispatchSemaphore)
        case task(CheckedContinuation<Void, Never>)
    }

    private let lock = NSLock()
    /// A key is held while it has an entry; the entry lists who waits for it, first first.
    private var held: [String: [Waiter]] = [:]

    public init() {}

    public func withLock<T>(_ key: String, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        if held[key] == nil {
            held[key] = []
            lock.unlock()
        } else {
            let semaphore = DispatchSemaphore(value: 0)
            held[key]!.append(.thread(semaphore))
            lock.unlock()
            semaphore.wait()
        }
        defer { release(key) }
        return try body()
    }

    public func withLock<T>(_ key: String, _ body: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if held[key] == nil {
                held[key] = []
                lock.unlock()
                continuation.resume()
            } else {
                held[key]!.append(.task(continuation))
                lock.unlock()
            }
        }
        defer { release(key) }
        return try await body()
    }

    /// Keys held now (for tests).
    public var heldCount: Int {
        lock.lock(); defer { lock.unlock() }
        return held.count
    }

    private func release(_ key: String) {
        lock.lock()
        guard var waiters = held[key], !waiters.isEmpty else {
            held[key] = nil
            lock.unlock()
            return
        }
        // The key passes straight to the next waiter, so nobody can overtake it.
        let next = waiters.removeFirst()
        held[key] = waiters
        lock.unlock()
        switch next {
        case let .thread(semaphore): semaphore.signal()
        case let .task(continuation): continuation.resume()
        }
    }
}
