import FairKube
import Foundation

/// What the scheduler writes: bindings, the `PodScheduled=False` condition, and events. All of it
/// runs on the writer pool, never on the decision thread.
extension Scheduler {
    func bind(_ pod: SchedulingPod, to node: String, cycle: UInt64) {
        let binding: JSONValue = [
            "apiVersion": "v1", "kind": "Binding",
            // The uid makes a real API server refuse the binding if the pod was replaced meanwhile.
            "metadata": ["name": .string(pod.name), "namespace": .string(pod.namespace), "uid": .string(pod.uid)],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)],
        ]
        do {
            _ = try client.post(.pods, namespace: pod.namespace, name: pod.name, subresource: "binding", binding)
            queue.forget(pod.key)
            verdicts.forget(pod.key)
            count { $0.scheduled += 1 }
            events.record(.init(apiVersion: "v1", kind: "Pod", namespace: pod.namespace, name: pod.name, uid: pod.uid),
                          .normal, reason: "Scheduled",
                          message: "Successfully assigned \(pod.namespace)/\(pod.name) to \(node)")
        } catch {
            cache.forget(key: pod.key, uid: pod.uid)
            count { $0.bindingErrors += 1 }
            if let error = error as? KubeError, error.isNotFound {
                // Deleted while we decided: nothing to retry.
                queue.forget(pod.key)
                return
            }
            // A conflict means it is bound already (the watch will say so, and the retry will
            // see it); anything else is the API being away. Either way, look again later.
            if (error as? KubeError)?.isConflict != true {
                logError("cannot bind pod \(pod.key) to node \(node): \(error)")
            }
            queue.backOff(pod.key, cycle: cycle)
        }
    }

    /// Tells each unbound `WaitForFirstConsumer` claim of the pod the node chosen for it, so its
    /// provisioner makes the volume there.
    func selectNode(_ node: String, forClaims names: [String], of pod: SchedulingPod) {
        for name in names {
            do {
                _ = try client.mergePatch(.persistentVolumeClaims, namespace: pod.namespace, name: name,
                                          ["metadata": ["annotations": .object([StorageAnnotations.selectedNode: .string(node)])]])
            } catch let error as KubeError where error.isNotFound {
                continue
            } catch {
                logError("cannot select node \(node) for claim \(pod.namespace)/\(name): \(error)")
            }
        }
    }

    /// A pod that cannot be placed now: it waits out its back-off and says why.
    func holdBack(_ pod: JSONValue, message: String, cycle: UInt64) {
        queue.backOff(Informer.key(pod), cycle: cycle)
        count { $0.unschedulableAttempts += 1 }
        reportUnschedulable(pod, message: message)
    }

    /// Sets `PodScheduled=False` (reason Unschedulable, kube's message) and writes a
    /// `FailedScheduling` event — only when the message changes, so a pod retried every 10 s
    /// does not rewrite its status every 10 s.
    func reportUnschedulable(_ pod: JSONValue, message: String) {
        let key = Informer.key(pod)
        verdicts.decided(key, message)
        guard let patch = unschedulablePatch(pod, message: message) else { return }
        let namespace = pod.namespace ?? "", name = pod.name ?? ""
        let involved = EventRecorder.InvolvedObject(apiVersion: "v1", kind: "Pod", namespace: namespace, name: name, uid: pod.uid ?? "",
                                                    resourceVersion: pod.resourceVersion)
        writers?.submit { [self] in
            do {
                _ = try client.mergePatch(.pods, namespace: namespace, name: name, patch, subresource: "status")
            } catch let error as KubeError where error.isConflict {
                // Most often our own earlier verdict on this pod, not yet seen through the watch
                // (a pod group reports for all its pods at once): once more against the pod as
                // it is now, if it still waits. No retry may come soon: back-offs reach 10 s.
                guard verdicts.isNewest(key, message),
                      let fresh = try? client.get(.pods, namespace: namespace, name: name), fresh.uid == pod.uid,
                      awaitsScheduling(fresh), let again = unschedulablePatch(fresh, message: message),
                      (try? client.mergePatch(.pods, namespace: namespace, name: name, again, subresource: "status")) != nil else { return }
            } catch let error as KubeError where error.isNotFound {
                return
            } catch {
                logError("cannot set the PodScheduled condition of pod \(namespace)/\(name): \(error)")
            }
            events.record(involved, .warning, reason: "FailedScheduling", message: message)
        }
    }

    /// The status patch that sets `PodScheduled=False` with the message; nil when the pod says
    /// so already. Conditions are a list: a merge patch replaces it whole, so it carries the
    /// version it was computed from and a concurrent change wins.
    private func unschedulablePatch(_ pod: JSONValue, message: String) -> JSONValue? {
        var conditions = Pod(json: pod).status.conditions
        if let current = conditions["PodScheduled"], current.status == "False", current.reason == "Unschedulable",
           current.message == message { return nil }
        conditions.removeAll { $0.type == "PodScheduled" }
        var scheduled = Condition(json: ["lastProbeTime": .null])
        scheduled.type = "PodScheduled"
        scheduled.status = "False"
        scheduled.reason = "Unschedulable"
        scheduled.message = message
        scheduled.lastTransitionTime = options.clock.now
        conditions.append(scheduled)
        return ["metadata": ["resourceVersion": .string(pod.resourceVersion ?? "")],
                "status": ["conditions": .array(conditions.map(\.json))]]
    }
}
