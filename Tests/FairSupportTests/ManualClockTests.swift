import FairSupport
import Foundation
import XCTest

final class ManualClockTests: XCTestCase {
    func testTimersRunInDeadlineOrderAsTimePassesThem() {
        let clock = ManualClock()
        let start = clock.now
        let lock = NSLock()
        var fired: [String] = []
        func note(_ name: String) { lock.lock(); fired.append(name); lock.unlock() }
        clock.schedule(after: 5) { note("5") }
        clock.schedule(after: 1) {
            note("1")
            // Set while time passes: it falls due within the same advance.
            clock.schedule(after: 1) { note("1+1") }
        }
        clock.schedule(after: 30) { note("30") }
        clock.advance(by: 10)
        XCTAssertEqual(fired, ["1", "1+1", "5"])
        XCTAssertEqual(clock.now, start.addingTimeInterval(10))
        XCTAssertEqual(clock.pendingTimers, 1)
        clock.advance(by: 20)
        XCTAssertEqual(fired.last, "30")
    }
}
