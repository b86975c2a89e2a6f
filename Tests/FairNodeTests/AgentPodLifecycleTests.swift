@testable import FairNode
import FairKube
import FairRegistry
import Foundation
import XCTest

final class AgentPodLifecycleTests: AgentTestCase {
    func testPodRunsWithAnAddressAndTheMergedCommandAndEnvironment() throws {
        let runtime = ScriptedRuntime()
        runtime.image("registry.local/trainer:v1", config: [
            "Entrypoint": ["/usr/bin/python3"], "Cmd": ["train.py"], "Env": ["PATH=/usr/bin", "MODE=image"], "WorkingDir": "/app",
        ])
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("trainer", node: "node-1", containers: [
            ["name": "main", "image": "registry.local/trainer:v1", "args": ["serve.py", "--port=$(PORT)", "$$(PORT)"],
             "env": [
                ["name": "PORT", "value": "8080"],
                ["name": "MODE", "value": "pod"],
                ["name": "URL", "value": "http://$(POD_NAME_COPY):$(PORT)"],
                ["name": "POD_NAME_COPY", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                ["name": "MY_NODE", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]],
                ["name": "MY_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                ["name": "MEM_MI", "valueFrom": ["resourceFieldRef": ["resource": "limits.memory", "divisor": "1Mi"]]],
             ],
             "resources": ["limits": ["cpu": "500m", "memory": "256Mi"]]],
            ["name": "sidecar", "image": "registry.local/trainer:v1", "command": ["/bin/sh", "-c"], "args": ["sleep 1000"], "workingDir": "/work"],
        ])
        let pod = waitForPhase("trainer", "Running")
        let ip = pod?.value(at: "status.podIP")?.stringValue ?? ""
        XCTAssertTrue(ip.hasPrefix("127.20."), "pod IP \(ip) comes from the pod CIDR")
        XCTAssertNotEqual(ip, "127.20.0.0")
        XCTAssertEqual(pod?.value(at: "status.podIPs"), [["ip": .string(ip)]])
        XCTAssertEqual(pod?.value(at: "status.hostIP"), "127.0.0.1")
        XCTAssertNotNil(pod?.value(at: "status.startTime"))
        XCTAssertEqual(pod?.condition("Ready"), "True")
        XCTAssertEqual(pod?.condition("ContainersReady"), "True")
        XCTAssertEqual(pod?.condition("Initialized"), "True")
        XCTAssertEqual(pod?.condition("PodScheduled"), "True")
        let main = pod?.containerStatus("main")
        XCTAssertEqual(main?["ready"], true)
        XCTAssertEqual(main?["started"], true)
        XCTAssertEqual(main?["restartCount"], 0)
        XCTAssertEqual(main?["image"], "registry.local/trainer:v1")
        XCTAssertEqual(main?["imageID"]?.stringValue, "registry.local/trainer@sha256:" + String(repeating: "ab", count: 32))
        XCTAssertEqual(main?["containerID"]?.stringValue, "runc://\(pod?.uid ?? "")-main-0")
        XCTAssertNotNil(main?.value(at: "state.running.startedAt"))

        let specs = runtime.specs
        XCTAssertEqual(specs.map(\.containerName), ["main", "sidecar"], "containers start in order")
        let spec = try XCTUnwrap(specs.first { $0.containerName == "main" })
        XCTAssertEqual(spec.args, ["/usr/bin/python3", "serve.py", "--port=8080", "$(PORT)"], "args replace Cmd and keep the Entrypoint")
        let env = Dictionary(spec.env.map { entry -> (String, String) in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { _, last in last })
        XCTAssertEqual(env["PATH"], "/usr/bin")
        XCTAssertEqual(env["MODE"], "pod", "the pod's env overrides the image's")
        XCTAssertEqual(env["URL"], "http://$(POD_NAME_COPY):8080", "only variables defined before are expanded")
        XCTAssertEqual(env["POD_NAME_COPY"], "trainer")
        XCTAssertEqual(env["MY_NODE"], "node-1")
        XCTAssertEqual(env["MY_IP"], ip)
        XCTAssertEqual(env["MEM_MI"], "256")
        XCTAssertEqual(env["POD_NAME"], "trainer")
        XCTAssertEqual(env["POD_NAMESPACE"], "default")
        XCTAssertEqual(env["POD_IP"], ip)
        XCTAssertEqual(spec.env.filter { $0.hasPrefix("MODE=") }.count, 1, "a name appears once")
        XCTAssertEqual(spec.workingDirectory, "/app")
        XCTAssertEqual(spec.cpuMilli, 500)
        XCTAssertEqual(spec.memoryBytes, 256 << 20)
        XCTAssertEqual(spec.podIP, ip)
        XCTAssertEqual(spec.hostname, "trainer")
        XCTAssertTrue(spec.logPath.hasSuffix("/pods/\(spec.podUID)/logs/main/0.log"), spec.logPath)

        let sidecar = try XCTUnwrap(specs.first { $0.containerName == "sidecar" })
        XCTAssertEqual(sidecar.args, ["/bin/sh", "-c", "sleep 1000"], "command replaces Entrypoint and drops Cmd")
        XCTAssertEqual(sidecar.workingDirectory, "/work")
        XCTAssertNil(sidecar.cpuMilli)
    }

    func testImageDefaultsAndVolumes() throws {
        let runtime = ScriptedRuntime()
        runtime.image("img:1", config: ["Entrypoint": ["/entry"], "Cmd": ["--default"]])
        let hostDirectory = cluster.directory + "/host-data"
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("volumes", node: "node-1", containers: [
            ["name": "c", "image": "img:1", "volumeMounts": [
                ["name": "scratch", "mountPath": "/scratch"],
                ["name": "data", "mountPath": "/data", "readOnly": true, "subPath": "models"],
            ]],
        ], extraSpec: ["volumes": [
            ["name": "scratch", "emptyDir": [:]],
            ["name": "data", "hostPath": ["path": .string(hostDirectory), "type": "DirectoryOrCreate"]],
        ]])
        waitForPhase("volumes", "Running")
        let spec = try XCTUnwrap(runtime.specs.first)
        XCTAssertEqual(spec.args, ["/entry", "--default"])
        XCTAssertEqual(spec.workingDirectory, "/")
        let scratch = try XCTUnwrap(spec.mounts.first { $0.destination == "/scratch" })
        XCTAssertTrue(scratch.source.hasSuffix("/pods/\(spec.podUID)/volumes/scratch"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.source))
        XCTAssertFalse(scratch.readOnly)
        let data = try XCTUnwrap(spec.mounts.first { $0.destination == "/data" })
        // The subPath is staged: a bind mount of the directory opened beneath the volume.
        XCTAssertTrue(data.source.hasSuffix("/pods/\(spec.podUID)/volume-subpaths/data/c/1"), data.source)
        XCTAssertTrue(data.readOnly)
        XCTAssertTrue(FileManager.default.fileExists(atPath: hostDirectory + "/models"))
        try "weights".write(toFile: hostDirectory + "/models/m.bin", atomically: false, encoding: .utf8)
        XCTAssertEqual(try String(contentsOfFile: data.source + "/m.bin", encoding: .utf8), "weights")
    }

    func testUnsupportedVolumeAndMissingConfigMapAreConfigErrors() throws {
        let runtime = ScriptedRuntime()
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("secretive", node: "node-1", containers: [["name": "c", "image": "img:1"]],
                              extraSpec: ["volumes": [["name": "creds", "nfs": ["server": "x", "path": "/"]]]])
        try cluster.createPod("configured", node: "node-1", containers: [
            ["name": "c", "image": "img:1", "env": [["name": "A", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "a"]]]]],
        ])
        let secretive = eventually("config error", { cluster.pod("secretive")?.containerStatus("c") },
                                   until: { $0?.value(at: "state.waiting.reason") == "CreateContainerConfigError" })
        XCTAssertTrue(secretive?.value(at: "state.waiting.message")?.stringValue?.contains("volume creds: type nfs is not supported") ?? false)
        XCTAssertEqual(cluster.pod("secretive")?.phase, "Pending")
        let configured = eventually("missing configmap", { cluster.pod("configured")?.containerStatus("c") },
                                    until: { $0?.value(at: "state.waiting.reason") == "CreateContainerConfigError" })
        XCTAssertTrue(configured?.value(at: "state.waiting.message")?.stringValue?.contains("configmap \"settings\" not found") ?? false)

        // Once the ConfigMap exists, the next try starts the container with its value.
        _ = try client.create(.configMaps, ["metadata": ["name": "settings", "namespace": "default"], "data": ["a": "from-map"]])
        waitForPhase("configured", "Running")
        XCTAssertTrue(runtime.specs.first { $0.podName == "configured" }?.env.contains("A=from-map") ?? false)
        XCTAssertFalse(runtime.specs.contains { $0.podName == "secretive" })
    }

    /// A Secret reaches a container as env (`secretKeyRef`, `envFrom`) and as files with the
    /// modes asked for; until it exists the container waits, and no message carries a value.
    func testSecretsReachEnvAndVolumesOnceTheyExist() throws {
        let runtime = ScriptedRuntime()
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("consumer", node: "node-1", containers: [
            ["name": "c", "image": "img:1",
             "env": [["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "token"]]],
                     ["name": "MISSING", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "nope", "optional": true]]]],
             "envFrom": [["prefix": "S_", "secretRef": ["name": "creds"]]],
             "volumeMounts": [["name": "files", "mountPath": "/creds", "readOnly": true],
                              ["name": "all", "mountPath": "/all"]]],
        ], extraSpec: ["volumes": [
            ["name": "files", "secret": ["secretName": "creds", "items": [["key": "token", "path": "sub/tok", "mode": 0o400]]]],
            ["name": "all", "secret": ["secretName": "creds", "defaultMode": 0o440]],
        ]])
        let waiting = eventually("missing secret", { cluster.pod("consumer")?.containerStatus("c") },
                                 until: { $0?.value(at: "state.waiting.reason") == "CreateContainerConfigError" })
        XCTAssertTrue(waiting?.value(at: "state.waiting.message")?.stringValue?.contains("secret \"creds\" not found") ?? false, "\(String(describing: waiting))")

        _ = try client.create(.secrets, ["metadata": ["name": "creds", "namespace": "default"],
                                         "stringData": ["token": "t0ken-value"], "data": ["user": "bWU="]])
        waitForPhase("consumer", "Running")
        let spec = try XCTUnwrap(runtime.specs.first { $0.podName == "consumer" })
        XCTAssertTrue(spec.env.contains("TOKEN=t0ken-value"), "\(spec.env)")
        XCTAssertTrue(spec.env.contains("S_token=t0ken-value") && spec.env.contains("S_user=me"), "\(spec.env)")
        XCTAssertFalse(spec.env.contains { $0.hasPrefix("MISSING=") })
        let files = try XCTUnwrap(spec.mounts.first { $0.destination == "/creds" })
        XCTAssertTrue(files.readOnly)
        XCTAssertEqual(try String(contentsOfFile: files.source + "/sub/tok", encoding: .utf8), "t0ken-value")
        let mode = try FileManager.default.attributesOfItem(atPath: files.source + "/sub/tok")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o400)
        let all = try XCTUnwrap(spec.mounts.first { $0.destination == "/all" })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: all.source).sorted(), ["token", "user"])
        XCTAssertEqual(try String(contentsOfFile: all.source + "/user", encoding: .utf8), "me")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: all.source + "/user")[.posixPermissions] as? Int, 0o440)
        // Nothing the node reported about this pod carries a value.
        let events = try client.list(.events, namespace: "default")["items"]?.arrayValue ?? []
        for text in events.compactMap({ $0["message"]?.stringValue }) + [String(describing: cluster.pod("consumer"))] {
            XCTAssertFalse(text.contains("t0ken-value"), text)
        }
    }

    /// Every pod gets its account's token, the cluster's CA and its namespace at the path
    /// in-cluster clients read, and the API server's address in KUBERNETES_SERVICE_HOST/PORT;
    /// the token is bound to the pod and is a credential for the API as long as the pod is.
    func testAPodGetsItsServiceAccountTokenCAAndTheAPIServersAddress() throws {
        let runtime = ScriptedRuntime()
        runtime.script("i", .init(exitAfter: 0.05, exitCode: 0))
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("incluster", node: "node-1", containers: [["name": "c", "image": "img:1"]],
                              extraSpec: ["initContainers": [["name": "i", "image": "img:1"]]])
        waitForPhase("incluster", "Running")
        let spec = try XCTUnwrap(runtime.specs.first { $0.podName == "incluster" && $0.containerName == "c" })
        let server = try XCTUnwrap(URLComponents(string: client.config.server))
        XCTAssertTrue(spec.env.contains("KUBERNETES_SERVICE_HOST=\(server.host ?? "")"), "\(spec.env)")
        XCTAssertTrue(spec.env.contains("KUBERNETES_SERVICE_PORT=\(server.port ?? 0)"), "\(spec.env)")
        let mount = try XCTUnwrap(spec.mounts.first { $0.destination == "/var/run/secrets/kubernetes.io/serviceaccount" })
        XCTAssertTrue(mount.readOnly)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount.source).sorted(), ["ca.crt", "namespace", "token"])
        XCTAssertEqual(try String(contentsOfFile: mount.source + "/namespace", encoding: .utf8), "default")
        XCTAssertEqual(try String(contentsOfFile: mount.source + "/ca.crt", encoding: .utf8), client.config.certificateAuthorityPEM)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: mount.source + "/token")[.posixPermissions] as? Int, 0o644)
        let token = try String(contentsOfFile: mount.source + "/token", encoding: .utf8)
        var podClientConfig = client.config
        podClientConfig.token = token
        let asPod = try KubeClient(config: podClientConfig)
        let whoami = try asPod.raw("POST", path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                   body: Array(#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#.utf8))
        let user = try JSONCoding.decode(whoami.body).value(at: "status.userInfo")
        XCTAssertEqual(user?["username"], "system:serviceaccount:default:default")
        XCTAssertEqual(user?["extra"]?["authentication.kubernetes.io/pod-name"], ["incluster"])
        // The same volume and variables serve the init container.
        let initSpec = try XCTUnwrap(runtime.specs.first { $0.podName == "incluster" && $0.containerName == "i" })
        XCTAssertTrue(initSpec.mounts.contains { $0.source == mount.source })
        XCTAssertTrue(initSpec.env.contains("KUBERNETES_PORT=tcp://\(server.host ?? ""):\(server.port ?? 0)"), "\(initSpec.env)")
    }

    /// The pod's pull secrets reach the pull, a missing one skipped as kubelet skips it.
    func testImagePullSecretsAreThePullsCredentials() throws {
        let runtime = ScriptedRuntime()
        try startAgent(quickOptions("node-1"), runtime: runtime)
        let config = #"{"auths":{"registry.example:5000":{"username":"puller","password":"pw"}}}"#
        _ = try client.create(.secrets, ["metadata": ["name": "pull", "namespace": "default"], "type": "kubernetes.io/dockerconfigjson",
                                         "stringData": [".dockerconfigjson": .string(config)]])
        try cluster.createPod("private", node: "node-1", containers: [["name": "c", "image": "registry.example:5000/team/model:v1"]],
                              extraSpec: ["imagePullSecrets": [["name": "absent"], ["name": "pull"]]])
        waitForPhase("private", "Running")
        let credentials = runtime.credentials(pulling: "registry.example:5000/team/model:v1")
        XCTAssertEqual(credentials?.credentials(for: "registry.example:5000"), Credentials(username: "puller", password: "pw"))
    }

    func testImagePullFailureIsReportedAndRetried() throws {
        let runtime = ScriptedRuntime()
        runtime.failPulls(of: "missing:1", with: "ErrImagePull: 127.0.0.1:5000/missing:1: manifest unknown")
        try startAgent(quickOptions("node-1"), runtime: runtime)
        try cluster.createPod("pull", node: "node-1", containers: [["name": "c", "image": "missing:1"]])
        let status = eventually("ErrImagePull", { cluster.pod("pull")?.containerStatus("c") },
                                until: { $0?.value(at: "state.waiting.reason") == "ErrImagePull" })
        XCTAssertEqual(status?.value(at: "state.waiting.message"), "ErrImagePull: 127.0.0.1:5000/missing:1: manifest unknown")
        XCTAssertEqual(cluster.pod("pull")?.phase, "Pending")
        runtime.failPulls(of: "missing:1", with: nil)
        waitForPhase("pull", "Running")
    }

    func testPodAddressesAreUniqueAndComeFromTheRange() throws {
        try startAgent(quickOptions("node-1", podCIDR: "127.21.0.0/28"), runtime: FakeRuntime())
        for index in 0..<8 {
            try cluster.createPod("p\(index)", node: "node-1", containers: [["name": "c", "image": "img:1"]])
        }
        var addresses: [String] = []
        for index in 0..<8 {
            let pod = waitForPhase("p\(index)", "Running")
            addresses.append(pod?.value(at: "status.podIP")?.stringValue ?? "")
        }
        XCTAssertEqual(Set(addresses).count, 8, "\(addresses)")
        for address in addresses {
            let last = Int(address.split(separator: ".").last ?? "") ?? -1
            XCTAssertTrue(address.hasPrefix("127.21.0."), address)
            XCTAssertTrue((1...14).contains(last), "\(address) is neither the network nor the broadcast address")
        }
    }
}
