import FairSupport
import Foundation
import XCTest

final class WorkQueueTests: XCTestCase {
    func testAKeyWaitsOnceHoweverOftenItIsAdded() {
        let queue = WorkQueue(clock: ManualClock())
        queue.add("a"); queue.add("b"); queue.add("a")
        XCTAssertEqual(queue.depth, 2)
        XCTAssertEqual(queue.get(), "a")
        XCTAssertEqual(queue.get(), "b")
        XCTAssertEqual(queue.depth, 0)
    }

    func testAKeyAddedWhileHandledComesBackOnlyAfterDone() {
        let queue = WorkQueue(clock: ManualClock())
        queue.add("a")
        XCTAssertEqual(queue.get(), "a")
        queue.add("a")
        queue.add("a")
        XCTAssertEqual(queue.depth, 0, "never handed out twice at once")
        queue.done("a")
        XCTAssertEqual(queue.depth, 1)
        XCTAssertEqual(queue.get(), "a")
        queue.done("a")
        XCTAssertTrue(queue.isIdle)
    }

    func testDelayedAddsRunOnTheInjectedClockAndKeepTheSoonest() {
        let clock = ManualClock()
        let queue = WorkQueue(clock: clock)
        queue.add("a", after: 10)
        queue.add("a", after: 3)
        queue.add("a", after: 20)
        clock.advance(by: 2.9)
        XCTAssertEqual(queue.depth, 0)
        clock.advance(by: 0.1)
        XCTAssertEqual(queue.depth, 1)
        XCTAssertEqual(queue.get(), "a")
        queue.done("a")
        clock.advance(by: 60)
        XCTAssertEqual(queue.depth, 0, "the later wake-ups were replaced by the sooner one")
    }

    func testFailuresBackOffPerKeyUntilForgotten() {
        let clock = ManualClock()
        let queue = WorkQueue(clock: clock, backOff: .init(base: 1, maximum: 4))
        var delays: [TimeInterval] = []
        for _ in 0..<4 {
            queue.addRateLimited("a")
            var waited: TimeInterval = 0
            while queue.depth == 0 {
                clock.advance(by: 0.5)
                waited += 0.5
            }
            delays.append(waited)
            XCTAssertEqual(queue.get(), "a")
            queue.done("a")
        }
        XCTAssertEqual(delays, [1, 2, 4, 4])
        XCTAssertEqual(queue.failureCount("a"), 4)
        queue.forget("a")
        queue.addRateLimited("a")
        clock.advance(by: 1)
        XCTAssertEqual(queue.depth, 1)
    }

    func testAProcessingQueueRunsAtMostItsConcurrencyAndNeverOneKeyTwice() {
        let queue = WorkQueue(clock: ManualClock())
        let lock = NSLock()
        var running: [String: Int] = [:], total = 0, peak = 0, handled = 0
        let finished = DispatchSemaphore(value: 0)
        queue.process(on: ThreadPool(name: "test", maxThreads: 8), concurrency: 3) { key in
            lock.lock()
            running[key, default: 0] += 1
            total += 1
            peak = max(peak, total)
            XCTAssertEqual(running[key], 1, "\(key) handled twice at once")
            lock.unlock()
            Thread.sleep(forTimeInterval: 0.002)
            lock.lock()
            running[key]! -= 1
            total -= 1
            handled += 1
            lock.unlock()
            finished.signal()
        }
        for round in 0..<5 {
            for index in 0..<10 { queue.add("k\((index + round) % 10)") }
        }
        let deadline = Date().addingTimeInterval(10)
        while !queue.isIdle && Date() < deadline { _ = finished.wait(timeout: .now() + 0.05) }
        XCTAssertTrue(queue.isIdle)
        XCTAssertLessThanOrEqual(peak, 3)
        XCTAssertGreaterThanOrEqual(handled, 10)
        XCTAssertLessThanOrEqual(handled, 50)
    }

    func testShutDownDropsWaitingKeysAndWakesGetters() {
        let queue = WorkQueue(clock: ManualClock())
        queue.add("a")
        queue.shutDown()
        XCTAssertNil(queue.get())
        queue.add("b")
        XCTAssertEqual(queue.depth, 0)
    }
}
