import FairSupport
import Foundation
import XCTest

final class Base64URLTests: XCTestCase {
    /// Every length's padding case, and bytes that make '+' and '/' in plain base64.
    func testRoundTripsAndMatchesRFC4648Section5() {
        for length in 0...66 {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: 251 &- $0 &* 67) })
            let encoded = Base64URL.encode(data)
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(encoded, expected)
            XCTAssertEqual(Base64URL.decode(encoded), data)
        }
        XCTAssertEqual(Base64URL.encode(Data([0xfb, 0xff, 0xbf])), "-_-_")
    }

    func testRejectsPaddingPlainBase64LettersAndGarbage() {
        XCTAssertNil(Base64URL.decode("YQ=="))
        XCTAssertNil(Base64URL.decode("+/+/"))
        XCTAssertNil(Base64URL.decode("a"))
        XCTAssertNil(Base64URL.decode("ab c"))
        XCTAssertEqual(Base64URL.decode(""), Data())
    }
}
