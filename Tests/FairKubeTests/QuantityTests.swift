import FairKube
import XCTest

final class QuantityTests: XCTestCase {
    func testParsesKubernetesQuantities() {
        XCTAssertEqual(Quantity("500m")?.milli, 500)
        XCTAssertEqual(Quantity("2")?.milli, 2000)
        XCTAssertEqual(Quantity("1.5")?.milli, 1500)
        XCTAssertEqual(Quantity("1Gi")?.units, 1 << 30)
        XCTAssertEqual(Quantity("128M")?.units, 128_000_000)
        XCTAssertEqual(Quantity("1e3")?.units, 1000)
        XCTAssertEqual(Quantity(.int(4))?.units, 4)
        XCTAssertNil(Quantity("lots"))
        XCTAssertNil(Quantity("-1"))
        XCTAssertNil(Quantity(""))
        XCTAssertEqual(Quantity("250m")!.description, "250m")
        XCTAssertLessThan(Quantity("900m")!, Quantity("1")!)
    }
}
