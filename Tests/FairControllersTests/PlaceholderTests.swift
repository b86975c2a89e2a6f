import XCTest

final class FairControllersPlaceholderTests: XCTestCase {
    func testModuleLoads() {}
}
