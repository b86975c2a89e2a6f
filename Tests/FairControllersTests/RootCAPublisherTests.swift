import FairKube
import Foundation
import XCTest

final class RootCAPublisherTests: ControllerTestCase {
    private func published(in namespace: String) -> String? {
        (try? client.get(.configMaps, namespace: namespace, name: "kube-root-ca.crt"))?.value(at: "data")?["ca.crt"]?.stringValue
    }

    func testEveryNamespaceCarriesTheClustersCAAndGetsItBack() throws {
        startControllers()
        let ca = try XCTUnwrap(client.config.certificateAuthorityPEM)
        _ = try client.create(.namespaces, ["metadata": ["name": "team"]])
        try waitUntil("the CA in team and default") { published(in: "team") == ca && published(in: "default") == ca }
        _ = try client.mergePatch(.configMaps, namespace: "team", name: "kube-root-ca.crt", ["data": ["ca.crt": "forged"]])
        try waitUntil("the CA put back") { published(in: "team") == ca }
        try client.delete(.configMaps, namespace: "team", name: "kube-root-ca.crt")
        try waitUntil("the CA made again") { published(in: "team") == ca }
    }
}
