import FairKube
import Foundation
import XCTest
@testable import FairAPIServer

/// Server-side apply's field ownership, checked against what structured-merge-diff does for
/// the same objects on a real cluster.
final class FieldManagerTests: XCTestCase {
    private let now = "2026-12-06T00:00:00Z"
    private let later = "2026-12-06T00:01:00Z"

    private func json(_ text: String) throws -> JSONValue { try JSONCoding.decode(Array(text.utf8)) }

    private func fieldsV1(_ object: JSONValue, _ manager: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        let entry = object.value(at: "metadata.managedFields")?.arrayValue?.first { $0["manager"]?.stringValue == manager }
        return entry.map { String(decoding: JSONCoding.encode($0["fieldsV1"]!), as: UTF8.self) }
    }

    private let configMaps = FieldManager(.configMap, subresource: nil)
    private let deployments = FieldManager(.deployment, subresource: nil)

    private func deployment(image: String, replicas: Int? = nil, extraContainer: Bool = false, args: [String]? = nil) throws -> JSONValue {
        var containers: [JSONValue] = [["name": "nginx", "image": .string(image)]]
        if let args { containers[0]["args"] = .array(args.map(JSONValue.string)) }
        if extraContainer { containers.append(["name": "sidecar", "image": "busybox"]) }
        var spec: JSONValue = ["selector": ["matchLabels": ["app": "web"]],
                               "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": .array(containers)]]]
        if let replicas { spec["replicas"] = .int(Int64(replicas)) }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"], "spec": spec]
    }

    func testAnApplyOwnsExactlyTheFieldsItSets() throws {
        let config = try json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"test-label":"test"}},"data":{"key":"some value"}}"#)
        let created = try configMaps.applied(config, to: nil, by: "kubectl", force: false, now: now)
        XCTAssertEqual(fieldsV1(created, "kubectl"), #"{"f:data":{"f:key":{}},"f:metadata":{"f:labels":{"f:test-label":{}}}}"#)
        XCTAssertEqual(created.value(at: "metadata.managedFields")?.arrayValue?.first?["operation"], "Apply")
    }

    func testAListItemIsAMemberWithItsFields() throws {
        let created = try deployments.applied(try deployment(image: "nginx:1"), to: nil, by: "kubectl", force: false, now: now)
        let set = try XCTUnwrap(fieldsV1(created, "kubectl"))
        XCTAssertTrue(set.contains(#""f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}"#), set)
        // LabelSelector is atomic: owned whole.
        XCTAssertTrue(set.contains(#""f:selector":{}"#), set)
    }

    func testAnotherManagersDifferentValueIsAConflictNamingTheField() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: nil, by: "kubectl", force: false, now: now)
        XCTAssertThrowsError(try deployments.applied(try deployment(image: "nginx:2", replicas: 3), to: live, by: "other", force: false, now: later)) { error in
            let apiError = (error as? FieldManager.Conflicts)?.apiError
            XCTAssertEqual(apiError?.code, 409)
            XCTAssertEqual(apiError?.message, #"Apply failed with 1 conflict: conflict with "kubectl": .spec.template.spec.containers[name="nginx"].image"#)
        }
    }

    func testTheSameValueIsSharedAndForceTakesOver() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: nil, by: "a", force: false, now: now)
        let shared = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: live, by: "b", force: false, now: later)
        XCTAssertTrue(fieldsV1(shared, "a")!.contains("f:replicas"))
        XCTAssertTrue(fieldsV1(shared, "b")!.contains("f:replicas"))
        let forced = try deployments.applied(try deployment(image: "nginx:1", replicas: 5), to: shared, by: "b", force: true, now: later)
        XCTAssertEqual(forced.value(at: "spec.replicas"), 5)
        XCTAssertFalse(fieldsV1(forced, "a")!.contains("f:replicas"))
        XCTAssertTrue(fieldsV1(forced, "b")!.contains("f:replicas"))
    }

    func testAFieldLeftOutIsRemovedUnlessSomeoneElseOwnsIt() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: nil, by: "a", force: false, now: now)
        let dropped = try deployments.applied(try deployment(image: "nginx:1"), to: live, by: "a", force: false, now: later)
        XCTAssertNil(dropped.value(at: "spec.replicas"))
        let shared = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: live, by: "b", force: false, now: later)
        let kept = try deployments.applied(try deployment(image: "nginx:1"), to: shared, by: "a", force: false, now: later)
        XCTAssertEqual(kept.value(at: "spec.replicas"), 3)
        XCTAssertTrue(fieldsV1(kept, "b")!.contains("f:replicas"))
        XCTAssertFalse(fieldsV1(kept, "a")!.contains("f:replicas"))
    }

    func testContainersFromTwoManagersMergeByName() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1"), to: nil, by: "a", force: false, now: now)
        var second = try deployment(image: "nginx:1", extraContainer: true)
        // b sets only its sidecar.
        second.set(.array([["name": "sidecar", "image": "busybox"]]), at: "spec.template.spec.containers")
        let merged = try deployments.applied(second, to: live, by: "b", force: false, now: later)
        let names = merged.value(at: "spec.template.spec.containers")?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(names, ["nginx", "sidecar"])
        // a leaves; b's container stays, a's goes.
        var without = try deployment(image: "nginx:1")
        without.set(nil, at: "spec.template.spec.containers")
        let left = try deployments.applied(without, to: merged, by: "a", force: false, now: later)
        XCTAssertEqual(left.value(at: "spec.template.spec.containers")?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["sidecar"])
    }

    func testAnAtomicListIsReplacedAndOwnedWhole() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1", args: ["a", "b"]), to: nil, by: "a", force: false, now: now)
        XCTAssertTrue(fieldsV1(live, "a")!.contains(#""f:args":{}"#))
        XCTAssertThrowsError(try deployments.applied(try deployment(image: "nginx:1", args: ["c"]), to: live, by: "b", force: false, now: later))
        let replaced = try deployments.applied(try deployment(image: "nginx:1", args: ["c"]), to: live, by: "a", force: false, now: later)
        XCTAssertEqual(replaced.value(at: "spec.template.spec.containers")?.arrayValue?.first?["args"], ["c"])
    }

    func testAnUpdateTakesTheFieldsItChangedFromTheAppliers() throws {
        let live = try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: nil, by: "kubectl", force: false, now: now)
        var scaled = live
        scaled.set(.int(5), at: "spec.replicas")
        let base = try ManagedFields(of: live)
        let updated = FieldManager(.deployment, subresource: "scale").updated(old: live, new: scaled, by: "kubectl", base: base, now: later)
        let entries = updated.value(at: "metadata.managedFields")?.arrayValue ?? []
        let scaleEntry = try XCTUnwrap(entries.first { $0["subresource"] == "scale" })
        XCTAssertEqual(scaleEntry["operation"], "Update")
        XCTAssertEqual(String(decoding: JSONCoding.encode(scaleEntry["fieldsV1"]!), as: UTF8.self), #"{"f:spec":{"f:replicas":{}}}"#)
        XCTAssertFalse(fieldsV1(updated, "kubectl")!.contains("f:replicas"))
        // Applying 3 again now conflicts with the update's manager, worded as kube-apiserver does.
        XCTAssertThrowsError(try deployments.applied(try deployment(image: "nginx:1", replicas: 3), to: updated, by: "kubectl", force: false, now: later)) { error in
            XCTAssertEqual((error as? FieldManager.Conflicts)?.apiError.message,
                           #"Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas"#)
        }
    }

    func testAReapplyChangesNothingNotEvenTheTime() throws {
        let config = try deployment(image: "nginx:1", replicas: 2)
        let live = try deployments.applied(config, to: nil, by: "a", force: false, now: now)
        XCTAssertEqual(try deployments.applied(config, to: live, by: "a", force: false, now: later), live)
    }

    func testUpdatesOfAMapMarkTheMapItself() throws {
        let old = try json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"binaryData":{"b":"AA=="}}"#)
        let created = configMaps.updated(old: nil, new: old, by: "kubectl-create", base: ManagedFields(), now: now)
        XCTAssertEqual(fieldsV1(created, "kubectl-create"), #"{"f:binaryData":{".":{},"f:b":{}}}"#)
        var new = try json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"1"}},"data":{"k":"v"},"binaryData":{"b":"AA=="}}"#)
        new.set(created.value(at: "metadata.managedFields"), at: "metadata.managedFields")
        let updated = configMaps.updated(old: created, new: new, by: "kubectl-label", base: try ManagedFields(of: created), now: later)
        XCTAssertEqual(fieldsV1(updated, "kubectl-label"), #"{"f:data":{".":{},"f:k":{}},"f:metadata":{"f:labels":{".":{},"f:a":{}}}}"#)
        // An object nobody owns anything of (cleared, or made before tracking) stays untracked.
        XCTAssertNil(configMaps.updated(old: old, new: new, by: "x", base: ManagedFields(), now: now).value(at: "metadata.managedFields"))
    }

    func testStatusIsOwnedOnlyThroughItsSubresource() throws {
        let old = deployments.updated(old: nil, new: try json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1}}"#),
                                      by: "kubectl-create", base: ManagedFields(), now: now)
        var new = old
        new.set(.int(1), at: "status.replicas")
        XCTAssertEqual(deployments.updated(old: old, new: new, by: "x", base: try ManagedFields(of: old), now: later).value(at: "metadata.managedFields"),
                       old.value(at: "metadata.managedFields"))
        let status = FieldManager(.deployment, subresource: "status").updated(old: old, new: new, by: "x", base: try ManagedFields(of: old), now: later)
        XCTAssertEqual(status.value(at: "metadata.managedFields")?.arrayValue?.last?["subresource"], "status")
    }

    func testFieldsV1RoundTrips() throws {
        let text = #"{"f:spec":{"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}},"f:finalizers":{"v:\"a\"":{}},"f:x":{"i:3":{}}}}"#
        let set = try FieldSet(fieldsV1: try json(text))
        XCTAssertEqual(try FieldSet(fieldsV1: set.fieldsV1), set)
        XCTAssertEqual(set.paths.map(FieldSet.describe).sorted(),
                       [".spec.finalizers[=\"a\"]",
                        ".spec.ports[containerPort=80,protocol=\"TCP\"]", ".spec.ports[containerPort=80,protocol=\"TCP\"].name", ".spec.x[3]"].sorted())
        XCTAssertThrowsError(try FieldSet(fieldsV1: try json(#"{"q:x":{}}"#)))
    }

    func testMergedListsKeepLiveItemsInPlaceAndFollowTheConfigsOrder() {
        func e(_ s: String) -> PathElement { .value(.string(s)) }
        XCTAssertEqual(AppliedMerge.ordered(live: [e("a"), e("b"), e("c")], config: [e("b"), e("d")]), [e("a"), e("b"), e("c"), e("d")])
        XCTAssertEqual(AppliedMerge.ordered(live: [e("a"), e("c")], config: [e("d"), e("c")]), [e("a"), e("d"), e("c")])
        XCTAssertEqual(AppliedMerge.ordered(live: [e("a"), e("b")], config: [e("b"), e("a")]), [e("b"), e("a")])
        XCTAssertEqual(AppliedMerge.ordered(live: [], config: [e("x"), e("y")]), [e("x"), e("y")])
    }

    func testApplyBodiesMayBeYAMLButNotTooDeep() throws {
        let object = try ApplyBody.decode(Array("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n".utf8))
        XCTAssertEqual(object.value(at: "data.a"), "1")
        XCTAssertThrowsError(try ApplyBody.decode(Array(("a: " + String(repeating: "[", count: 5000)).utf8)))
        XCTAssertThrowsError(try ApplyBody.decode(Array("- 1\n- 2\n".utf8)))
        // Aliases of aliases, ten to a level: a billion values from a few hundred bytes.
        var laughs = "kind: ConfigMap\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { laughs += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let started = Date()
        XCTAssertThrowsError(try ApplyBody.decode(Array(laughs.utf8))) { error in
            XCTAssertTrue("\(error)".contains("expands to more values than its text holds"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
}

extension FieldManagerTests {
    func testAMapEmptiedByRemovalGoes() throws {
        let first = try json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"x":"1"}},"data":{"a":"1","b":"2"}}"#)
        let second = try json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}"#)
        let live = try configMaps.applied(first, to: nil, by: "kubectl", force: false, now: now)
        let dropped = try configMaps.applied(second, to: live, by: "kubectl", force: false, now: later)
        XCTAssertNil(dropped.value(at: "metadata.labels"))
        XCTAssertEqual(dropped.value(at: "metadata")?.objectValue?.keys.contains("labels"), false)
        XCTAssertEqual(dropped["data"], ["a": "1"])
    }
}
