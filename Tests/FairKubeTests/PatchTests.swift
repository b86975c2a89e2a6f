import FairKube
import XCTest

final class PatchTests: XCTestCase {
    let pod: JSONValue = [
        "metadata": ["name": "p", "labels": ["a": "1", "b": "2"]],
        "spec": ["containers": [["name": "web", "image": "web:1", "env": [["name": "X", "value": "1"]]],
                                ["name": "side", "image": "side:1"]]],
    ]

    func testMergePatchMergesObjectsDeletesNullsAndReplacesLists() {
        let patched = Patch.merge(pod, ["metadata": ["labels": ["a": nil, "c": "3"]], "spec": ["containers": [["name": "only"]]]])
        XCTAssertEqual(patched.labels, ["b": "2", "c": "3"])
        XCTAssertEqual(patched.value(at: "spec.containers")?.arrayValue?.count, 1)
    }

    func testStrategicMergeMergesContainersByName() {
        let patch: JSONValue = [
            "$setElementOrder/containers": [["name": "web"], ["name": "side"]],
            "spec": ["containers": [["name": "web", "image": "web:2"], ["name": "side", "$patch": "delete"], ["name": "new", "image": "n:1"]]],
        ]
        let patched = Patch.strategicMerge(pod, patch)
        let containers = patched.value(at: "spec.containers")?.arrayValue ?? []
        XCTAssertEqual(containers.compactMap { $0["name"]?.stringValue }, ["web", "new"])
        XCTAssertEqual(containers.first?["image"], "web:2")
        XCTAssertEqual(containers.first?["env"]?.arrayValue?.count, 1, "fields the patch does not mention are kept")
        XCTAssertNil(patched["$setElementOrder/containers"])
    }

    func testJSONPatchOperations() throws {
        let operations: JSONValue = [
            ["op": "replace", "path": "/spec/containers/0/image", "value": "web:3"],
            ["op": "add", "path": "/metadata/labels/c", "value": "3"],
            ["op": "remove", "path": "/metadata/labels/a"],
            ["op": "add", "path": "/spec/containers/-", "value": ["name": "last"]],
            ["op": "test", "path": "/metadata/name", "value": "p"],
            ["op": "copy", "from": "/metadata/name", "path": "/metadata/alias"],
        ]
        let patched = try Patch.json(pod, operations)
        XCTAssertEqual(patched.value(at: "spec.containers")?.arrayValue?.first?["image"], "web:3")
        XCTAssertEqual(patched.labels, ["b": "2", "c": "3"])
        XCTAssertEqual(patched.value(at: "spec.containers")?.arrayValue?.last?["name"], "last")
        XCTAssertEqual(patched.value(at: "metadata.alias"), "p")
        XCTAssertThrowsError(try Patch.json(pod, [["op": "remove", "path": "/metadata/nothing"]]))
        XCTAssertThrowsError(try Patch.json(pod, [["op": "test", "path": "/metadata/name", "value": "q"]]))
        XCTAssertThrowsError(try Patch.json(pod, ["op": "not-a-list"]))
    }

    func testJSONRoundTripKeepsIntegersAndUnknownFields() throws {
        let text = #"{"a":1,"b":1.5,"c":true,"d":null,"e":[{"x":"y"}],"f":{"unknown":{"deep":9007199254740993}}}"#
        let value = try JSONCoding.decode(Data(text.utf8))
        XCTAssertEqual(value["a"], .int(1))
        XCTAssertEqual(value["b"], .double(1.5))
        XCTAssertEqual(value.value(at: "f.unknown.deep"), .int(9_007_199_254_740_993))
        XCTAssertEqual(try JSONCoding.decode(JSONCoding.encode(value)), value)
    }
}
