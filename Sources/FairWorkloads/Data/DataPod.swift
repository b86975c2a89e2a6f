import FairKube
import Foundation

/// The short-lived pod through which `fair data` reaches a claim: it mounts the claim (read-only
/// for a pull) and runs `fair-data.py` from the `fair-tools` ConfigMap, which serves the claim's
/// directory over HTTP on the pod's IP; fair talks to it through the API server's pod proxy,
/// so it works on any cluster, wherever the claim's volume lives.
///
/// It never runs on: the program exits once told the transfer is done, or after
/// `idleTimeoutSeconds` without a request (a `fair` that was killed), and `activeDeadlineSeconds`
/// stops it on any cluster whose kubelet enforces it. It never restarts.
public struct DataPod: Sendable {
    public static let port = 8470
    public static let container = "data"
    public static let mountPath = "/data"
    public static let nameLabel = "app.kubernetes.io/name"
    public static let claimLabel = "fair.dev/claim"
    /// The key of the transfer's Secret (named as the pod) that holds its token.
    public static let tokenKey = "token"
    public static let tokenHeader = "X-Fair-Data-Token"

    public var name: String
    public var namespace: String
    public var location: ClaimLocation
    public var image: String
    public var readOnly: Bool
    public var idleTimeoutSeconds = 300
    public var activeDeadlineSeconds = 24 * 3600

    public init(name: String, namespace: String, location: ClaimLocation, image: String, readOnly: Bool) {
        self.name = name
        self.namespace = namespace
        self.location = location
        self.image = image
        self.readOnly = readOnly
    }

    /// `fair-data-CLAIM-xxxxx`, cut to stay a valid pod name.
    public static func name(for claim: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let suffix = String((0..<5).map { _ in alphabet.randomElement()! })
        var stem = "fair-data-" + claim.replacingOccurrences(of: ".", with: "-")
        stem = String(stem.prefix(63 - 6))
        while stem.hasSuffix("-") { stem.removeLast() }
        return "\(stem)-\(suffix)"
    }

    /// The Secret with the transfer's token, which only fair and the pod know. Made before the
    /// pod, then owned by it, so it goes with the pod even when fair is killed.
    public func tokenSecret(token: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": ["name": .string(name), "namespace": .string(namespace),
                      "labels": [Self.nameLabel: "fair-data", "app.kubernetes.io/managed-by": "fair"]],
         "stringData": [Self.tokenKey: .string(token)]]
    }

    /// 32 random bytes, hex.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public var manifest: JSONValue {
        var arguments: [JSONValue] = [
            "python3", "-u", .string("\(ModelTools.mountPath)/fair-data.py"),
            "--root", .string(Self.mountPath), "--port", .string(String(Self.port)),
            "--idle-timeout", .string(String(idleTimeoutSeconds)),
        ]
        if !location.path.isEmpty { arguments += ["--path", .string(location.path)] }
        if readOnly { arguments.append("--read-only") }
        let container: JSONValue = [
            "name": .string(Self.container),
            "image": .string(image),
            "command": .array(arguments),
            // Where it listens: on a pod network any address would do; on fair server, pods
            // share the host's network, each on a loopback address of its own.
            "env": [
                ["name": "FAIR_BIND", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                // What every request must carry: other pods can reach the pod's address too.
                ["name": "FAIR_DATA_TOKEN", "valueFrom": ["secretKeyRef": ["name": .string(name), "key": .string(Self.tokenKey)]]],
            ],
            "ports": [["name": "http", "containerPort": .int(Int64(Self.port)), "protocol": "TCP"]],
            "readinessProbe": ["httpGet": ["path": "/healthz", "port": .int(Int64(Self.port))], "periodSeconds": 1, "failureThreshold": 3],
            // The claim's root, not a subPath: the program finds PATH itself, so a push can make
            // it and a pull from a PATH that is not there says so (kubelet would make an empty one).
            "volumeMounts": [
                ["name": "data", "mountPath": .string(Self.mountPath), "readOnly": .bool(readOnly)],
                ["name": "fair-tools", "mountPath": .string(ModelTools.mountPath), "readOnly": true],
            ],
        ]
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": [
                    Self.nameLabel: "fair-data",
                    "app.kubernetes.io/managed-by": "fair",
                    Self.claimLabel: .string(location.claim),
                ],
            ],
            "spec": [
                "restartPolicy": "Never",
                "activeDeadlineSeconds": .int(Int64(activeDeadlineSeconds)),
                "terminationGracePeriodSeconds": 5,
                // It needs nothing of the API: no token in the pod.
                "automountServiceAccountToken": false,
                "enableServiceLinks": false,
                "containers": [container],
                "volumes": [
                    ["name": "data", "persistentVolumeClaim": ["claimName": .string(location.claim), "readOnly": .bool(readOnly)]],
                    ["name": "fair-tools", "configMap": ["name": .string(ModelTools.configMapName)]],
                ],
            ],
        ]
    }
}
