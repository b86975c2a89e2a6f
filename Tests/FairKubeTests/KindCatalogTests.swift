import FairKube
import XCTest

final class KindCatalogTests: XCTestCase {
    func testEveryKindIsListedOnceAndFoundByEachOfItsNames() {
        let all = KindCatalog.all
        XCTAssertEqual(Set(all.map(\.storageKey)).count, all.count, "a plural served twice")
        XCTAssertEqual(Set(all.map { "\($0.apiVersion)/\($0.kind)" }).count, all.count, "a kind listed twice")
        for kind in all {
            XCTAssertEqual(KindCatalog.find(group: kind.group, version: kind.version, plural: kind.plural), kind)
            XCTAssertEqual(KindCatalog.find(apiVersion: kind.apiVersion, kind: kind.kind), kind)
            XCTAssertEqual(KindCatalog.find(kind.resource), kind)
            XCTAssertTrue(kind.selects("metadata.name") && kind.selects("metadata.namespace"))
            XCTAssertFalse(kind.selects("spec.noSuchField"))
            XCTAssertEqual(kind.columns.first { $0.priority == 0 }?.name, kind.kind == "Event" ? "Last Seen" : "Name")
        }
        XCTAssertNil(KindCatalog.find(apiVersion: "v1", kind: "NoSuchKind"))
    }

    func testTheClientsResourcesAreTheCatalogs() {
        let named: [APIResource] = [.namespaces, .pods, .nodes, .services, .endpoints, .events, .configMaps, .deployments, .replicaSets, .jobs, .cronJobs]
        for resource in named {
            XCTAssertEqual(KindCatalog.find(resource)?.resource, resource, resource.plural)
        }
    }

    func testDefaultsAndChecksBelongToTheKind() {
        var job: JSONValue = ["metadata": ["name": "j", "uid": "u-1"],
                              "spec": ["template": ["spec": ["containers": [["name": "c", "image": "i:1"]]]]]]
        KindDefinition.job.prepareCreate(&job)
        KindDefinition.job.defaults(&job)
        XCTAssertEqual(job.value(at: ["spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"]), "u-1")
        XCTAssertEqual(job.value(at: "spec.backoffLimit"), .int(6))
        XCTAssertEqual(job.value(at: "spec.template.spec.restartPolicy"), "Never")
        XCTAssertEqual(KindDefinition.job.validate(job), [])
        let pod: JSONValue = ["metadata": ["name": "p"], "spec": ["containers": [["name": "c"]]]]
        XCTAssertEqual(KindDefinition.pod.validate(pod), [FieldCause("spec.containers[0].image", "Required value")])
        XCTAssertEqual(KindDefinition.configMap.validate(pod), [])
    }
}
