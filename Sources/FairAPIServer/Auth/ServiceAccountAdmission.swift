import FairKube
import Foundation

/// What kube-apiserver's ServiceAccount admission plugin does to a new pod: it must run as an
/// account that exists (`default` may still be on its way from the controller), it gets its
/// account's image pull secrets when it names none, and, unless the pod or its account turns
/// `automountServiceAccountToken` off, a projected volume with a token, the cluster's CA and
/// its namespace, mounted read-only in every container at the path in-cluster clients read.
enum ServiceAccountAdmission {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    static let rootCAConfigMap = "kube-root-ca.crt"
    /// kubelet asks for this lifetime; the API server extends it (see `ServiceAccountTokens`).
    static let tokenExpirationSeconds: Int64 = 3607
    private static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func admit(_ pod: inout JSONValue, store: ObjectStore) throws {
        let namespace = pod.namespace ?? "default"
        let name = pod.value(at: "spec.serviceAccountName")?.stringValue ?? KindDefinition.defaultServiceAccountName
        let account = store.get(KindDefinition.serviceAccount.storageKey, namespace: namespace, name: name)?.object
        if account == nil && name != KindDefinition.defaultServiceAccountName {
            throw APIError(code: 403, reason: "Forbidden",
                           message: "pods \"\(pod.name ?? "")\" is forbidden: error looking up service account \(namespace)/\(name): serviceaccount \"\(name)\" not found",
                           details: .init(name: pod.name, group: "", kind: "pods"))
        }
        if (pod.value(at: "spec.imagePullSecrets")?.arrayValue ?? []).isEmpty,
           let secrets = account?["imagePullSecrets"]?.arrayValue, !secrets.isEmpty {
            pod.set(.array(secrets), at: "spec.imagePullSecrets")
        }
        let automount = pod.value(at: "spec.automountServiceAccountToken")?.boolValue
            ?? account?["automountServiceAccountToken"]?.boolValue ?? true
        guard automount else { return }
        let containerPaths = ["spec.initContainers", "spec.containers"]
        let alreadyMounted = containerPaths.contains { path in
            (pod.value(at: path)?.arrayValue ?? []).contains { container in
                (container["volumeMounts"]?.arrayValue ?? []).contains { $0["mountPath"]?.stringValue == mountPath }
            }
        }
        guard !alreadyMounted else { return }
        let volumeName = "kube-api-access-" + String((0..<5).map { _ in suffixAlphabet.randomElement()! })
        let volume: JSONValue = [
            "name": .string(volumeName),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": .int(tokenExpirationSeconds), "path": "token"]],
                    ["configMap": ["name": .string(rootCAConfigMap), "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                ],
            ],
        ]
        pod.set(.array((pod.value(at: "spec.volumes")?.arrayValue ?? []) + [volume]), at: "spec.volumes")
        let mount: JSONValue = ["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)]
        for path in containerPaths {
            guard var containers = pod.value(at: path)?.arrayValue else { continue }
            for index in containers.indices {
                containers[index]["volumeMounts"] = .array((containers[index]["volumeMounts"]?.arrayValue ?? []) + [mount])
            }
            pod.set(.array(containers), at: path)
        }
    }
}
