import FairKube
import Foundation

/// The template values for a container's resources, shared by the Job and the Deployment:
/// requests for cpu and memory, a memory limit equal to its request (a process past it is
/// killed rather than slowing the node), GPUs as limits only, as Kubernetes requires.
enum ResourceValues {
    static func make(cpu: String?, memory: String?, gpus: Int) throws -> [String: Any] {
        for (field, quantity) in [("cpu", cpu), ("memory", memory)] {
            if let quantity, Quantity(quantity) == nil {
                throw TrainingJob.Invalid(description: "--\(field) \(quantity) is not a quantity (e.g. \(field == "cpu" ? "500m or 2" : "512Mi or 4Gi"))")
            }
        }
        var requests: [[String: Any]] = []
        if let cpu { requests.append(["name": "cpu", "quantity": cpu]) }
        if let memory { requests.append(["name": "memory", "quantity": memory]) }
        var limits = requests.filter { $0["name"] as? String == "memory" }
        if gpus > 0 { limits.append(["name": "nvidia.com/gpu", "quantity": String(gpus)]) }
        return [
            "requests": requests, "limits": limits, "hasRequests": !requests.isEmpty, "hasLimits": !limits.isEmpty,
            "hasResources": !requests.isEmpty || !limits.isEmpty,
        ]
    }

    static func nodeSelector(_ selector: [String: String]) -> [String: Any] {
        ["hasNodeSelector": !selector.isEmpty,
         "nodeSelector": selector.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] as [String: Any] }]
    }
}
