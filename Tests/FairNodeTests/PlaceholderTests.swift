import XCTest

final class FairNodePlaceholderTests: XCTestCase {
    func testModuleLoads() {}
}
