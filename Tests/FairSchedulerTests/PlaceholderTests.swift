import XCTest

final class FairSchedulerPlaceholderTests: XCTestCase {
    func testModuleLoads() {}
}
