import FairSupport
import Foundation
import XCTest

final class ThreadPoolTests: XCTestCase {
    func testThreadsStayWithinTheBoundAndJobsStartInOrder() {
        let pool = ThreadPool(name: "bounded", maxThreads: 2, idleTimeout: 1)
        let lock = NSLock()
        var active = 0, peak = 0, started: [Int] = []
        let group = DispatchGroup()
        for index in 0..<20 {
            group.enter()
            pool.submit {
                lock.lock()
                started.append(index)
                active += 1
                peak = max(peak, active)
                lock.unlock()
                Thread.sleep(forTimeInterval: 0.002)
                lock.lock(); active -= 1; lock.unlock()
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(peak, 2)
        // With two threads a later job may start just before an earlier one, never far ahead.
        XCTAssertEqual(started.sorted(), Array(0..<20))
        for (position, index) in started.enumerated() { XCTAssertLessThanOrEqual(abs(position - index), 1) }
    }

    func testStopDropsJobsNotStartedAndWaitsForRunningOnes() {
        let pool = ThreadPool(name: "stopping", maxThreads: 1)
        let gate = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var ran: [Int] = []
        pool.submit { gate.wait(); lock.lock(); ran.append(1); lock.unlock() }
        pool.submit { lock.lock(); ran.append(2); lock.unlock() }
        Thread.sleep(forTimeInterval: 0.05)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { gate.signal() }
        pool.stop(timeout: 5)
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(ran, [1], "the running job finished before stop returned; the waiting one was dropped")
        pool.submit { ran.append(3) }
    }

    func testParallelLoopCoversEveryItemAndRethrowsTheFirstError() throws {
        let lock = NSLock()
        var seen = Set<Int>()
        try forEachInParallel(Array(0..<100), jobs: 4) { item in
            lock.lock(); seen.insert(item); lock.unlock()
        }
        XCTAssertEqual(seen, Set(0..<100))

        struct Boom: Error, Equatable { let item: Int }
        XCTAssertThrowsError(try forEachInParallel(Array(0..<100), jobs: 4) { item in
            if item == 7 { throw Boom(item: item) }
        }) { error in XCTAssertEqual(error as? Boom, Boom(item: 7)) }
    }
}
