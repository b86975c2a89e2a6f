import FairKube
import Foundation
import XCTest

final class SecretKindTests: XCTestCase {
    private let kind = KindDefinition.secret

    private func defaulted(_ object: JSONValue) -> JSONValue {
        var object = object
        kind.defaults(&object)
        return object
    }

    func testStringDataIsMergedIntoDataAndNotKept() {
        let secret = defaulted(["metadata": ["name": "s"], "data": ["a": "b2xk", "b": "Yg=="], "stringData": ["a": "new", "c": "ç"]])
        XCTAssertNil(secret["stringData"])
        XCTAssertEqual(secret["type"], "Opaque")
        XCTAssertEqual(SecretData.decoded(secret).mapValues { String(decoding: $0, as: UTF8.self) }, ["a": "new", "b": "b", "c": "ç"])
    }

    func testValidationNamesTheKeyAndNeverTheValue() {
        let causes = kind.validate(defaulted(["metadata": ["name": "s"], "data": ["ok": "aGk=", "bad": "s3cr3t!!", "no/slash": "aGk="]]))
        XCTAssertEqual(causes.map(\.field), ["data[no/slash]", "data[bad]"])
        XCTAssertFalse(causes.contains { $0.message.contains("s3cr3t") }, "\(causes)")
        XCTAssertTrue(causes[0].message.contains("a valid config key"), causes[0].message)
    }

    func testTypesRequireTheirKeys() {
        func fields(_ type: String, _ data: JSONValue, annotations: JSONValue = [:]) -> [String] {
            kind.validate(defaulted(["metadata": ["name": "s", "annotations": annotations], "type": .string(type), "data": data])).map(\.field)
        }
        XCTAssertEqual(fields(SecretType.tls, ["tls.crt": "aGk="]), ["data[tls.key]"])
        XCTAssertEqual(fields(SecretType.basicAuth, [:]), ["data[username]", "data[password]"])
        XCTAssertEqual(fields(SecretType.basicAuth, ["password": "aGk="]), [])
        XCTAssertEqual(fields(SecretType.dockerConfigJSON, [".dockerconfigjson": "aGk="]), ["data[.dockerconfigjson]"])
        XCTAssertEqual(fields(SecretType.dockerConfigJSON, [".dockerconfigjson": .string(Data(#"{"auths":{}}"#.utf8).base64EncodedString())]), [])
        XCTAssertEqual(fields(SecretType.serviceAccountToken, [:]), ["metadata.annotations[kubernetes.io/service-account.name]"])
        XCTAssertEqual(fields("example.com/custom", ["x": "aGk="]), [])
    }

    func testAMebibyteIsTheLimit() {
        let big = String(repeating: "A", count: (1 << 20) / 3 * 4 + 8)
        XCTAssertEqual(kind.validate(defaulted(["metadata": ["name": "s"], "data": ["big": .string(big)]])).map(\.field), ["data"])
    }

    func testImmutableFreezesDataAndItselfAndTypeNeverChanges() {
        let old = defaulted(["metadata": ["name": "s"], "immutable": true, "data": ["a": "aGk="]])
        var relabelled = old
        relabelled.set(["team": "ml"], at: "metadata.labels")
        XCTAssertEqual(kind.validateUpdate(old, relabelled).map(\.field), [])
        var changed = old
        changed["data"] = ["a": "aG8="]
        XCTAssertEqual(kind.validateUpdate(old, changed).map(\.field), ["data"])
        var unfrozen = old
        unfrozen["immutable"] = false
        XCTAssertEqual(kind.validateUpdate(old, unfrozen).map(\.field), ["immutable"])
        var retyped = defaulted(["metadata": ["name": "s"], "data": ["a": "aGk="]])
        let before = retyped
        retyped["type"] = "kubernetes.io/basic-auth"
        XCTAssertEqual(kind.validateUpdate(before, retyped).map(\.field), ["type"])
    }

    func testTheTableCountsKeysAndPrintsNoValue() {
        let secret = defaulted(["metadata": ["name": "s"], "data": ["a": "c2VjcmV0"]])
        let cells = kind.columns.map { $0.value(secret, Date()) }
        XCTAssertEqual(kind.columns.map(\.name), ["Name", "Type", "Data", "Age"])
        XCTAssertEqual(Array(cells.prefix(3)), ["s", "Opaque", .int(1)])
        XCTAssertFalse(cells.contains { "\($0)".contains("c2VjcmV0") || "\($0)".contains("secret") })
    }
}
