import FairKube

/// A node taint (`spec.taints[]`): pods that do not tolerate it are kept off the node.
struct Taint: Equatable, Sendable {
    var key: String
    var value: String
    var effect: String

    init(key: String, value: String = "", effect: String) {
        self.key = key
        self.value = value
        self.effect = effect
    }

    init?(_ taint: FairKube.Taint) {
        guard let key = taint.key, let effect = taint.effect else { return nil }
        self.init(key: key, value: taint.value ?? "", effect: effect)
    }

    /// Only these keep new pods away; PreferNoSchedule is a scoring hint.
    var blocksScheduling: Bool { effect == "NoSchedule" || effect == "NoExecute" }

    /// kube's wording: `node(s) had untolerated taint {key: value}`.
    var unschedulableReason: String { "node(s) had untolerated taint {\(key): \(value)}" }

    /// What the node lifecycle puts on cordoned nodes; tolerating it lets a pod onto them.
    static let unschedulable = Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")
}

/// A pod toleration (`spec.tolerations[]`), matched as in k8s.io/api's `ToleratesTaint`.
struct Toleration: Equatable, Sendable {
    var key: String
    var `operator`: String
    var value: String
    var effect: String

    init(_ json: JSONValue) { self.init(FairKube.Toleration(json: json)) }

    init(_ toleration: FairKube.Toleration) {
        key = toleration.key ?? ""
        self.operator = toleration.operator ?? "Equal"
        value = toleration.value ?? ""
        effect = toleration.effect ?? ""
    }

    /// An empty effect matches every effect; an empty key with `Exists` matches every taint.
    func tolerates(_ taint: Taint) -> Bool {
        if !effect.isEmpty && effect != taint.effect { return false }
        if !key.isEmpty && key != taint.key { return false }
        switch self.operator {
        case "Exists": return true
        case "Equal", "": return value == taint.value
        default: return false
        }
    }
}

extension Array where Element == Toleration {
    func tolerate(_ taint: Taint) -> Bool { contains { $0.tolerates(taint) } }
}
