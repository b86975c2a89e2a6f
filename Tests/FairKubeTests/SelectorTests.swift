import FairKube
import XCTest

final class SelectorTests: XCTestCase {
    func testLabelSelectorForms() throws {
        let selector = try LabelSelector(parsing: "app=web, tier!=db,env in (prod, staging),!legacy,track")
        XCTAssertTrue(selector.matches(["app": "web", "env": "prod", "track": "x"]))
        XCTAssertFalse(selector.matches(["app": "web", "env": "prod", "track": "x", "legacy": "1"]))
        XCTAssertFalse(selector.matches(["app": "web", "env": "dev", "track": "x"]))
        XCTAssertFalse(selector.matches(["app": "web", "env": "prod", "track": "x", "tier": "db"]))
        XCTAssertTrue(try LabelSelector(parsing: "env notin (prod)").matches([:]))
        XCTAssertTrue(try LabelSelector(parsing: "").matches(["any": "thing"]))
        XCTAssertThrowsError(try LabelSelector(parsing: "env in prod"))
    }

    func testSelectorObjects() {
        let selector = LabelSelector(object: ["matchLabels": ["app": "web"],
                                              "matchExpressions": [["key": "tier", "operator": "In", "values": ["a", "b"]]]])
        XCTAssertTrue(selector.matches(["app": "web", "tier": "a"]))
        XCTAssertFalse(selector.matches(["app": "web"]))
    }

    func testFieldSelector() throws {
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "ns"], "spec": ["nodeName": "n1"], "status": ["phase": "Running"]]
        XCTAssertTrue(try FieldSelector(parsing: "spec.nodeName=n1,status.phase!=Pending").matches(pod))
        XCTAssertFalse(try FieldSelector(parsing: "metadata.name=q").matches(pod))
        XCTAssertTrue(try FieldSelector(parsing: "spec.schedulerName=").matches(pod), "a missing field equals the empty string")
    }
}
