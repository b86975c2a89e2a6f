import FairSupport
import Foundation
import XCTest

final class KeyedLockTests: XCTestCase {
    func testOneKeyIsHeldByOneCallerAtATimeWhetherBlockingOrAsync() async {
        let locks = KeyedLock()
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                if index % 2 == 0 {
                    group.addTask {
                        await Task.detached {
                            locks.withLock("image") { counter.enterAndLeave() }
                        }.value
                    }
                } else {
                    group.addTask {
                        await locks.withLock("image") { () async -> Void in
                            counter.enter()
                            try? await Task.sleep(nanoseconds: 200_000)
                            counter.leave()
                        }
                    }
                }
            }
        }
        XCTAssertEqual(counter.peak, 1)
        XCTAssertEqual(counter.total, 40)
        XCTAssertEqual(locks.heldCount, 0)
    }

    func testDifferentKeysDoNotWaitForEachOther() {
        let locks = KeyedLock()
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            locks.withLock("a") {
                inside.signal()
                release.wait()
            }
        }
        inside.wait()
        let start = Date()
        locks.withLock("b") {}
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        release.signal()
    }

    func testWaitersGetTheKeyInTheOrderTheyAsked() {
        let locks = KeyedLock()
        let lock = NSLock()
        var order: [Int] = []
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread.detachNewThread { locks.withLock("k") { holding.signal(); release.wait() } }
        holding.wait()
        let group = DispatchGroup()
        for index in 0..<5 {
            group.enter()
            Thread.detachNewThread {
                locks.withLock("k") { lock.lock(); order.append(index); lock.unlock() }
                group.leave()
            }
            // Each waiter is queued before the next one asks.
            Thread.sleep(forTimeInterval: 0.02)
        }
        release.signal()
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(order, [0, 1, 2, 3, 4])
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var inside = 0
    private(set) var peak = 0
    private(set) var total = 0

    func enter() {
        lock.lock(); defer { lock.unlock() }
        inside += 1
        total += 1
        peak = max(peak, inside)
    }

    func leave() {
        lock.lock(); defer { lock.unlock() }
        inside -= 1
    }

    func enterAndLeave() {
        enter()
        Thread.sleep(forTimeInterval: 0.0002)
        leave()
    }
}
