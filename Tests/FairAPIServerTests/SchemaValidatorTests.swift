import FairKube
import Foundation
import XCTest
@testable import FairAPIServer

final class SchemaValidatorTests: XCTestCase {
    private func causes(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> [(field: String, message: String)] {
        let object = try JSONCoding.decode(Array(json.utf8))
        let apiVersion = try XCTUnwrap(object["apiVersion"]?.stringValue, file: file, line: line)
        let kind = try XCTUnwrap(object["kind"]?.stringValue, file: file, line: line)
        return SchemaValidator.causes(object, apiVersion: apiVersion, kind: kind)
    }

    private func assertNoCauses(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let found = try causes(json, file: file, line: line)
        XCTAssertTrue(found.isEmpty, "unexpected causes: \(found)", file: file, line: line)
    }

    // MARK: Wrong types

    func testConfigMapDataWithAnIntegerHasOneCauseAtItsKey() throws {
        let found = try causes(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":1,"b":"two"}}"#)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.field, "data[a]")
        XCTAssertEqual(found.first?.message, #"Invalid value: 1: data[a] in body must be of type string: "integer""#)
    }

    func testPodWithContainersAsAString() throws {
        let found = try causes(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":"x"}}"#)
        XCTAssertEqual(found.map(\.field), ["spec.containers"])
        XCTAssertEqual(found.first?.message, #"Invalid value: "x": spec.containers in body must be of type array: "string""#)
    }

    func testPodWithAPortAsAString() throws {
        let found = try causes("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
             "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":"80"}]}]}}
            """)
        XCTAssertEqual(found.map(\.field), ["spec.containers[0].ports[0].containerPort"])
        XCTAssertEqual(found.first?.message,
                       #"Invalid value: "80": spec.containers[0].ports[0].containerPort in body must be of type integer: "string""#)
    }

    func testLabelWithANumber() throws {
        let found = try causes(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web","tier":3}},"spec":{"containers":[]}}"#)
        XCTAssertEqual(found.map(\.field), ["metadata.labels[tier]"])
        XCTAssertEqual(found.first?.message, #"Invalid value: 3: metadata.labels[tier] in body must be of type string: "integer""#)
    }

    func testEveryWrongFieldHasItsOwnCauseInPathOrder() throws {
        let found = try causes("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":"x"},
             "spec":{"replicas":"2","paused":"no","template":{"spec":{"containers":[
               {"name":"a","image":"i","args":[1,"ok",true]},
               {"name":5,"image":"i","env":{"A":"1"}}]}}}}
            """)
        XCTAssertEqual(found.map(\.field), [
            "metadata.labels",
            "spec.paused",
            "spec.replicas",
            "spec.template.spec.containers[0].args[0]",
            "spec.template.spec.containers[0].args[2]",
            "spec.template.spec.containers[1].env",
            "spec.template.spec.containers[1].name",
        ])
        XCTAssertEqual(found[1].message, #"Invalid value: "no": spec.paused in body must be of type boolean: "string""#)
        XCTAssertEqual(found[5].message, #"Invalid value: {"A":"1"}: spec.template.spec.containers[1].env in body must be of type array: "object""#)
    }

    func testAFractionIsNotAnIntegerAndAnObjectIsNotAString() throws {
        let found = try causes(#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","annotations":{"a":{"b":[1,2]}}},"spec":{"backoffLimit":1.5,"template":{"spec":{"containers":[]}}}}"#)
        XCTAssertEqual(found.map(\.field), ["metadata.annotations[a]", "spec.backoffLimit"])
        XCTAssertEqual(found[0].message, #"Invalid value: {"b":[1,2]}: metadata.annotations[a] in body must be of type string: "object""#)
        XCTAssertEqual(found[1].message, #"Invalid value: 1.5: spec.backoffLimit in body must be of type integer: "number""#)
    }

    func testIntOrStringAndQuantityRejectOtherTypes() throws {
        let found = try causes("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},
             "spec":{"ports":[{"port":80,"targetPort":true},{"port":81,"targetPort":{"x":1}}]}}
            """)
        XCTAssertEqual(found.map(\.field), ["spec.ports[0].targetPort", "spec.ports[1].targetPort"])
        XCTAssertEqual(found[0].message, #"Invalid value: true: spec.ports[0].targetPort in body must be of type integer or string: "boolean""#)
        let quantity = try causes(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"capacity":{"cpu":[4]}}}"#)
        XCTAssertEqual(quantity.map(\.field), ["status.capacity[cpu]"])
        XCTAssertEqual(quantity.first?.message, #"Invalid value: [4]: status.capacity[cpu] in body must be of type number or string: "array""#)
    }

    func testTheWholeBodyMustBeAnObject() throws {
        let found = SchemaValidator.causes(["a", "b"], apiVersion: "v1", kind: "ConfigMap")
        XCTAssertEqual(found.map(\.field), [""])
        XCTAssertEqual(found.first?.message, #"Invalid value: ["a","b"]: body must be of type object: "array""#)
    }

    func testLongValuesAreCutShortInMessages() throws {
        let long = String(repeating: "x", count: 10_000)
        let found = SchemaValidator.causes(["apiVersion": "v1", "kind": "ConfigMap", "immutable": .string(long)],
                                           apiVersion: "v1", kind: "ConfigMap")
        XCTAssertEqual(found.count, 1)
        let message = try XCTUnwrap(found.first?.message)
        XCTAssertLessThan(message.count, 300)
        XCTAssertTrue(message.hasPrefix("Invalid value: \"xxxx"), message)
        XCTAssertTrue(message.hasSuffix(#"...": immutable in body must be of type boolean: "string""#), message)

        let items = JSONValue.array((0..<10_000).map { .int(Int64($0)) })
        let array = SchemaValidator.causes(["immutable": items], apiVersion: "v1", kind: "ConfigMap")
        XCTAssertTrue(try XCTUnwrap(array.first?.message).hasPrefix("Invalid value: [0,1,2,3,"))
        XCTAssertLessThan(try XCTUnwrap(array.first?.message).count, 300)

        var members: [String: JSONValue] = [:]
        for index in 0..<10_000 { members["k\(100_000 + index)"] = .int(Int64(index)) }
        let object = SchemaValidator.causes(["immutable": .object(members)], apiVersion: "v1", kind: "ConfigMap")
        let objectMessage = try XCTUnwrap(object.first?.message)
        XCTAssertTrue(objectMessage.hasPrefix(#"Invalid value: {"k100000":0,"k100001":1,"#), objectMessage)
        XCTAssertLessThan(objectMessage.count, 300)
    }

    // MARK: What is accepted

    func testNullIsAcceptedAnywhere() throws {
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":null,"annotations":{"a":null},"creationTimestamp":null},
             "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":null}],"args":[null]}],"volumes":null},"status":null}
            """)
    }

    func testUnknownFieldsAreNotErrors() throws {
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","x-extra":{"deep":[1,2]}},"surprise":42,
             "spec":{"containers":[{"name":"c","image":"i","madeUp":{"containerPort":"80"}}],"unknownSpecField":"x"}}
            """)
    }

    func testUnknownKindsAndVersionsHaveNoCauses() {
        let body: JSONValue = ["spec": ["containers": "x"], "data": ["a": 1]]
        XCTAssertTrue(SchemaValidator.causes(body, apiVersion: "example.com/v1", kind: "Widget").isEmpty)
        XCTAssertTrue(SchemaValidator.causes(body, apiVersion: "v2", kind: "Pod").isEmpty)
        XCTAssertTrue(SchemaValidator.causes(body, apiVersion: "apps/v1", kind: "ConfigMap").isEmpty)
    }

    func testAnIntegralDoubleCountsAsAnInteger() {
        let pod: JSONValue = ["spec": ["containers": [["name": "c", "ports": [["containerPort": .double(80)]]]],
                                       "terminationGracePeriodSeconds": .double(30.0)]]
        XCTAssertTrue(SchemaValidator.causes(pod, apiVersion: "v1", kind: "Pod").isEmpty)
    }

    func testAValidPod() throws {
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"name":"web-0","namespace":"default","labels":{"app":"web"},"annotations":{"note":"x"},
                         "uid":"6b1f","resourceVersion":"12","generation":1,"creationTimestamp":"2024-05-01T10:00:00Z",
                         "finalizers":["a/b"],
                         "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4","uid":"u1","controller":true,"blockOwnerDeletion":true}],
                         "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:00Z",
                                           "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}}]},
             "spec":{"restartPolicy":"Always","terminationGracePeriodSeconds":30,"nodeName":"node-1",
                     "nodeSelector":{"kubernetes.io/os":"linux"},"serviceAccountName":"default",
                     "securityContext":{"runAsUser":1000,"runAsNonRoot":true,"fsGroup":2000},
                     "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
                     "initContainers":[{"name":"init","image":"busybox","command":["sh","-c","true"]}],
                     "containers":[{"name":"web","image":"nginx:1.27","imagePullPolicy":"IfNotPresent",
                                    "args":["--port","8080"],
                                    "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
                                    "env":[{"name":"A","value":"1"},
                                           {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
                                           {"name":"CM","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"k","optional":true}}}],
                                    "resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"cpu":1,"memory":"128Mi","nvidia.com/gpu":1}},
                                    "readinessProbe":{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":1,"failureThreshold":3},
                                    "livenessProbe":{"tcpSocket":{"port":8080},"initialDelaySeconds":5},
                                    "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":true}]}],
                     "volumes":[{"name":"data","emptyDir":{"sizeLimit":"1Gi"}},
                                {"name":"cfg","configMap":{"name":"cfg","defaultMode":420,"items":[{"key":"k","path":"k.txt"}]}}]},
             "status":{"phase":"Running","podIP":"10.0.0.5","podIPs":[{"ip":"10.0.0.5"}],"hostIP":"192.168.1.2",
                       "startTime":"2024-05-01T10:00:01Z","qosClass":"Burstable",
                       "conditions":[{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:05Z"}],
                       "containerStatuses":[{"name":"web","ready":true,"restartCount":0,"started":true,"image":"nginx:1.27",
                                             "imageID":"sha256:abc","containerID":"runc://123",
                                             "state":{"running":{"startedAt":"2024-05-01T10:00:02Z"}},"lastState":{}}]}}
            """)
    }

    func testAValidJob() throws {
        try assertNoCauses("""
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"train","labels":{"app.kubernetes.io/managed-by":"fair"}},
             "spec":{"backoffLimit":0,"activeDeadlineSeconds":3600,"completions":1,"parallelism":1,"ttlSecondsAfterFinished":600,
                     "template":{"metadata":{"labels":{"job-name":"train"}},
                                 "spec":{"restartPolicy":"Never",
                                         "containers":[{"name":"train","image":"registry.local/p@sha256:00","env":[{"name":"FAIR_MODEL_DIR","value":"/model"}],
                                                        "resources":{"requests":{"cpu":"2","memory":"4Gi"}}}]}}},
             "status":{"active":1,"startTime":"2024-05-01T10:00:00Z","ready":0,"uncountedTerminatedPods":{},
                       "conditions":[{"type":"Complete","status":"True","lastProbeTime":"2024-05-01T10:05:00Z","lastTransitionTime":"2024-05-01T10:05:00Z"}]}}
            """)
    }

    func testAValidServiceWithTargetPortAsAStringAndAsAnInteger() throws {
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
             "spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"app":"web"},
                     "ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"},
                              {"name":"metrics","port":9090,"targetPort":9090}],
                     "sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack"},
             "status":{"loadBalancer":{}}}
            """)
    }

    func testAValidNodeWithQuantities() throws {
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1"}},
             "spec":{"podCIDR":"10.244.0.0/24","taints":[{"key":"k","value":"v","effect":"NoSchedule"}],"unschedulable":false},
             "status":{"capacity":{"cpu":"8","memory":"32768Mi","pods":110,"ephemeral-storage":"100Gi"},
                       "allocatable":{"cpu":7.5,"memory":"30Gi","pods":"110"},
                       "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"2024-05-01T10:00:00Z",
                                      "lastTransitionTime":"2024-05-01T09:00:00Z"}],
                       "addresses":[{"type":"InternalIP","address":"192.168.1.2"}],
                       "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
                       "nodeInfo":{"machineID":"m","systemUUID":"s","bootID":"b","kernelVersion":"6.1","osImage":"Debian",
                                   "containerRuntimeVersion":"runc://1.1","kubeletVersion":"v1.32.0","kubeProxyVersion":"",
                                   "operatingSystem":"linux","architecture":"amd64"},
                       "images":[{"names":["nginx:1.27"],"sizeBytes":12345678}]}}
            """)
    }

    func testOtherServedKindsWhenValid() throws {
        try assertNoCauses(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#)
        try assertNoCauses(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"},"binaryData":{"b":"AAE="},"immutable":false}"#)
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"},
             "subsets":[{"addresses":[{"ip":"10.0.0.5","nodeName":"node-1","targetRef":{"kind":"Pod","name":"web-0","namespace":"default"}}],
                         "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]}
            """)
        try assertNoCauses("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"web-0.17a"},"involvedObject":{"kind":"Pod","name":"web-0"},
             "reason":"Scheduled","message":"Successfully assigned","type":"Normal","count":1,
             "firstTimestamp":"2024-05-01T10:00:00Z","lastTimestamp":"2024-05-01T10:00:00Z","eventTime":"2024-05-01T10:00:00.123456Z",
             "source":{"component":"default-scheduler"}}
            """)
        try assertNoCauses(#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web-0"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}"#)
        try assertNoCauses(#"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=web"}}"#)
    }

    /// What `kubectl create deployment web --image=nginx:1.27 --port=80 --replicas=2 --dry-run=client -o json`
    /// prints, as `kubectl apply` sends it (with its last-applied annotation), and as the server
    /// returns it with defaults and status filled in.
    func testARealisticDeploymentPasses() throws {
        try assertNoCauses("""
            {
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "metadata": {
                    "name": "web",
                    "creationTimestamp": null,
                    "labels": {"app": "web"},
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": "{\\"apiVersion\\":\\"apps/v1\\",\\"kind\\":\\"Deployment\\",\\"metadata\\":{\\"annotations\\":{},\\"labels\\":{\\"app\\":\\"web\\"},\\"name\\":\\"web\\",\\"namespace\\":\\"default\\"},\\"spec\\":{\\"replicas\\":2}}\\n",
                        "deployment.kubernetes.io/revision": "1"
                    },
                    "namespace": "default",
                    "generation": 1
                },
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
                    "template": {
                        "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                        "spec": {
                            "containers": [
                                {
                                    "name": "nginx",
                                    "image": "nginx:1.27",
                                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                    "resources": {},
                                    "terminationMessagePath": "/dev/termination-log",
                                    "terminationMessagePolicy": "File",
                                    "imagePullPolicy": "IfNotPresent"
                                }
                            ],
                            "restartPolicy": "Always",
                            "terminationGracePeriodSeconds": 30,
                            "dnsPolicy": "ClusterFirst",
                            "securityContext": {},
                            "schedulerName": "default-scheduler"
                        }
                    },
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600
                },
                "status": {
                    "observedGeneration": 1,
                    "replicas": 2,
                    "updatedReplicas": 2,
                    "readyReplicas": 2,
                    "availableReplicas": 2,
                    "conditions": [
                        {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-01T10:00:10Z",
                         "lastTransitionTime": "2024-05-01T10:00:10Z", "reason": "MinimumReplicasAvailable",
                         "message": "Deployment has minimum availability."}
                    ]
                }
            }
            """)
    }

    func testAValidReplicaSet() throws {
        try assertNoCauses("""
            {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-7d4","labels":{"pod-template-hash":"7d4"}},
             "spec":{"replicas":2,"minReadySeconds":0,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}}},
             "status":{"replicas":2,"fullyLabeledReplicas":2,"readyReplicas":2,"availableReplicas":2,"observedGeneration":1}}
            """)
    }

    // MARK: Bounds

    func testDeeplyNestedJunkStaysBounded() throws {
        var junk: JSONValue = "bottom"
        for depth in 0..<500 { junk = depth % 2 == 0 ? .array([junk, junk]) : .object(["a": junk, "b": 1]) }
        let started = Date()
        // In unknown fields, in a field of any type (fieldsV1), and in a wrong-typed field.
        let pod: JSONValue = [
            "metadata": ["name": "p", "junk": junk, "managedFields": [["fieldsV1": junk]], "labels": ["x": junk]],
            "spec": ["containers": [["name": junk, "image": "i"]], "nested": junk],
        ]
        let found = SchemaValidator.causes(pod, apiVersion: "v1", kind: "Pod")
        XCTAssertEqual(found.map(\.field), ["metadata.labels[x]", "spec.containers[0].name"])
        XCTAssertLessThan(found[0].message.count, 300)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testCausesAreCappedAndLargeBodiesChecked() throws {
        var data: [String: JSONValue] = [:]
        for index in 0..<50_000 { data["key\(index)"] = .int(Int64(index)) }
        let started = Date()
        let found = SchemaValidator.causes(["data": .object(data)], apiVersion: "v1", kind: "ConfigMap")
        XCTAssertEqual(found.count, SchemaValidator.maximumCauses)
        XCTAssertTrue(found.allSatisfy { $0.field.hasPrefix("data[key") })

        var strings: [String: JSONValue] = [:]
        for index in 0..<50_000 { strings["key\(index)"] = .string("value") }
        strings["zzz"] = true
        XCTAssertEqual(SchemaValidator.causes(["data": .object(strings)], apiVersion: "v1", kind: "ConfigMap").map(\.field), ["data[zzz]"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testTheDefinitionsLoad() {
        let catalog = TypeCatalog.kubernetes
        XCTAssertEqual(catalog.kubernetesVersion, KubernetesTypeSchemas.kubernetesVersion)
        // Computed kinds (metrics) take no request body to validate.
        for definition in KindCatalog.all where !definition.computed {
            XCTAssertNotNil(catalog.root(apiVersion: definition.apiVersion, kind: definition.kind),
                            "no type definition for \(definition.apiVersion) \(definition.kind)")
        }
        let pod = catalog.objects[catalog.root(apiVersion: "v1", kind: "Pod")!]
        XCTAssertEqual(pod.name, "io.k8s.api.core.v1.Pod")
        XCTAssertEqual(pod.fields["apiVersion"], .string)
    }
}
