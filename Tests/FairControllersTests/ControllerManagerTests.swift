import FairControllers
import FairKube
import Foundation
import XCTest

final class ControllerManagerTests: ControllerTestCase {
    /// Threads of this process that run Swift code of ours: on Linux, Foundation threads keep
    /// the process's name (NIO and Dispatch threads name themselves).
    /// Informer threads of this process (they name themselves); the runtime's own unnamed threads
    /// come and go on their own schedule, so they are not counted.
    private func informerThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix("informer") == true }.count
    }

    func testStopEndsReconcilingAndEveryThread() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/task"), "needs /proc to count threads")
        // Threads of earlier tests may still be ending: wait for a steady count.
        var baseline = informerThreads()
        try waitUntil("a steady thread count", timeout: 15) {
            let previous = baseline
            Thread.sleep(forTimeInterval: 0.05)
            baseline = informerThreads()
            return baseline == previous
        }
        let manager = ControllerManager(client: client, options: ControllerOptions())
        manager.start()
        defer { manager.stop() }
        // Seventeen informers, one thread each; reconciles borrow threads of the shared pool.
        try waitUntil("informers running") { informerThreads() >= baseline + 17 }
        _ = try client.create(.replicaSets, [
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web"],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [Self.container()]]]],
        ])
        try waitUntil("the pod") { try activePods("app=web").count == 1 }

        manager.stop()
        _ = try client.mergePatch(.replicaSets, name: "web", ["spec": ["replicas": 3]])
        // Informers end at their watch's next event: give each kind one.
        _ = try client.create(.jobs, ["metadata": ["name": "j"], "spec": ["template": ["spec": ["containers": [Self.container()]]]]])
        _ = try client.create(.cronJobs, [
            "metadata": ["name": "cj"],
            "spec": ["schedule": "* * * * *",
                     "jobTemplate": ["spec": ["template": ["spec": ["containers": [Self.container()], "restartPolicy": "Never"]]]]],
        ])
        _ = try client.create(.deployments, [
            "metadata": ["name": "d"],
            "spec": ["selector": ["matchLabels": ["app": "d"]],
                     "template": ["metadata": ["labels": ["app": "d"]], "spec": ["containers": [Self.container()]]]],
        ])
        _ = try client.create(.statefulSets, [
            "metadata": ["name": "st"],
            "spec": ["selector": ["matchLabels": ["app": "st"]],
                     "template": ["metadata": ["labels": ["app": "st"]], "spec": ["containers": [Self.container()]]]],
        ])
        _ = try client.create(.daemonSets, [
            "metadata": ["name": "ds"],
            "spec": ["selector": ["matchLabels": ["app": "ds"]],
                     "template": ["metadata": ["labels": ["app": "ds"]], "spec": ["containers": [Self.container()]]]],
        ])
        _ = try client.create(.services, ["metadata": ["name": "s"], "spec": ["ports": [["port": 80]]]])
        _ = try client.create(.endpoints, ["metadata": ["name": "s"]])
        _ = try client.create(.nodes, ["metadata": ["name": "n"]])
        _ = try client.create(.pods, ["metadata": ["name": "p"], "spec": ["containers": [Self.container()]]])
        _ = try client.create(.namespaces, ["metadata": ["name": "after-stop"]])
        _ = try client.create(.serviceAccounts, ["metadata": ["name": "sa"]])
        _ = try client.create(.configMaps, namespace: "after-stop", ["metadata": ["name": "kube-root-ca.crt"]])
        _ = try client.create(.persistentVolumeClaims, [
            "metadata": ["name": "c"], "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
        ])
        _ = try client.create(.persistentVolumes, [
            "metadata": ["name": "v"],
            "spec": ["accessModes": ["ReadWriteOnce"], "capacity": ["storage": "1Gi"], "hostPath": ["path": "/tmp/v"]],
        ])
        _ = try client.create(.storageClasses, ["metadata": ["name": "sc"], "provisioner": "example.com/none"])
        _ = try client.create(.certificateSigningRequests, [
            "metadata": ["name": "csr"],
            "spec": ["request": .string(Data("-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n".utf8).base64EncodedString()),
                     "signerName": "example.com/none", "usages": ["client auth"]],
        ])
        try waitUntil("every controller thread ended", timeout: 5) { informerThreads() <= baseline }
        try stays("nothing reconciled after stop", for: 0.3) {
            try activePods("app=web").count == 1 && list(.replicaSets).count == 1
        }
    }
}
