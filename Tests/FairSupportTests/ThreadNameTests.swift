import FairSupport
import Foundation
import XCTest

final class ThreadNameTests: XCTestCase {
    /// The kernel's name is what `ps -L` and /proc show; a long name is cut to Linux's 15 bytes
    /// instead of being refused.
    func testANewThreadIsNamedInTheKernelEveryTime() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/task"), "needs /proc")
        for round in 0..<50 {
            let named = expectation(description: "named \(round)")
            let release = DispatchSemaphore(value: 0)
            var comm: String?
            let thread = Thread {
                Thread.nameCurrent("informer replicasets")
                comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                named.fulfill()
                release.wait()
            }
            thread.start()
            wait(for: [named], timeout: 5)
            release.signal()
            XCTAssertEqual(comm, "informer replic\n", "round \(round)")
        }
    }
}
