import FairKube
@testable import FairNode
import XCTest

final class PodDNSTests: XCTestCase {
    private let host = """
        # the host's
        nameserver 10.0.0.2
        nameserver 10.0.0.3
        search corp.example
        options timeout:2 rotate
        """

    private func pod(_ spec: JSONValue = [:], namespace: String = "ml") -> JSONValue {
        ["metadata": ["name": "p", "namespace": .string(namespace)], "spec": spec]
    }

    func testClusterFirstSearchesTheNamespaceThenTheHost() {
        XCTAssertEqual(PodDNS.resolvConf(pod: pod(), clusterDNS: "127.96.0.10", clusterDomain: "cluster.local", host: host), """
            search ml.svc.cluster.local svc.cluster.local cluster.local corp.example
            nameserver 127.96.0.10
            options ndots:5

            """)
    }

    func testWithoutAClusterDNSOrOnTheHostNetworkClusterFirstIsDefault() {
        XCTAssertNil(PodDNS.resolvConf(pod: pod(), clusterDNS: nil, clusterDomain: "cluster.local", host: host))
        XCTAssertNil(PodDNS.resolvConf(pod: pod(["hostNetwork": true]), clusterDNS: "127.96.0.10", clusterDomain: "cluster.local", host: host))
        XCTAssertEqual(PodDNS.resolvConf(pod: pod(["hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"]),
                                         clusterDNS: "127.96.0.10", clusterDomain: "cluster.local", host: host)?.contains("nameserver 127.96.0.10"), true)
        XCTAssertNil(PodDNS.resolvConf(pod: pod(["dnsPolicy": "Default"]), clusterDNS: "127.96.0.10", clusterDomain: "cluster.local", host: host))
    }

    func testDNSConfigAddsToThePolicyAndNoneTakesOnlyIt() {
        let config: JSONValue = ["nameservers": ["10.0.0.3", "1.1.1.1"], "searches": ["extra.example", "corp.example"],
                                 "options": [["name": "ndots", "value": "2"], ["name": "edns0"]]]
        XCTAssertEqual(PodDNS.resolvConf(pod: pod(["dnsPolicy": "Default", "dnsConfig": config]), clusterDNS: nil,
                                         clusterDomain: "cluster.local", host: host), """
            search corp.example extra.example
            nameserver 10.0.0.2
            nameserver 10.0.0.3
            nameserver 1.1.1.1
            options timeout:2 rotate ndots:2 edns0

            """)
        XCTAssertEqual(PodDNS.resolvConf(pod: pod(["dnsPolicy": "None", "dnsConfig": ["nameservers": ["9.9.9.9"]]]),
                                         clusterDNS: "127.96.0.10", clusterDomain: "cluster.local", host: host), "nameserver 9.9.9.9\n")
    }

    func testAPodWithASubdomainHasAFullyQualifiedName() {
        XCTAssertEqual(PodDNS.fullyQualifiedName(pod: pod(["subdomain": "workers"]), hostname: "ring-0", clusterDomain: "cluster.local"),
                       "ring-0.workers.ml.svc.cluster.local")
        XCTAssertNil(PodDNS.fullyQualifiedName(pod: pod(), hostname: "p", clusterDomain: "cluster.local"))
    }

    func testServiceVariablesAsKubeletWritesThem() {
        let services: [JSONValue] = [
            ["metadata": ["name": "model-server"], "spec": ["clusterIP": "127.96.1.5", "ports": [
                ["name": "http", "port": 80], ["name": "grpc-api", "port": 9000, "protocol": "TCP"]]]],
            ["metadata": ["name": "workers"], "spec": ["clusterIP": "None", "ports": [["port": 80]]]],
        ]
        let variables = Dictionary(uniqueKeysWithValues: ServiceEnvironment.variables(for: services).map { ($0.name, $0.value) })
        XCTAssertEqual(variables, [
            "MODEL_SERVER_SERVICE_HOST": "127.96.1.5", "MODEL_SERVER_SERVICE_PORT": "80",
            "MODEL_SERVER_SERVICE_PORT_HTTP": "80", "MODEL_SERVER_SERVICE_PORT_GRPC_API": "9000",
            "MODEL_SERVER_PORT": "tcp://127.96.1.5:80",
            "MODEL_SERVER_PORT_80_TCP": "tcp://127.96.1.5:80", "MODEL_SERVER_PORT_80_TCP_PROTO": "tcp",
            "MODEL_SERVER_PORT_80_TCP_PORT": "80", "MODEL_SERVER_PORT_80_TCP_ADDR": "127.96.1.5",
            "MODEL_SERVER_PORT_9000_TCP": "tcp://127.96.1.5:9000", "MODEL_SERVER_PORT_9000_TCP_PROTO": "tcp",
            "MODEL_SERVER_PORT_9000_TCP_PORT": "9000", "MODEL_SERVER_PORT_9000_TCP_ADDR": "127.96.1.5",
        ])
    }
}
