import FairKube

/// What one pod takes from a node, computed as kube-scheduler does.
struct PodDemand: Equatable, Sendable {
    /// Requests that must fit: per container `resources.requests`, or `resources.limits` for a
    /// resource with no request (the API defaults requests to limits); the sum over containers,
    /// at least the largest init container, plus `spec.overhead`. Always one pod.
    var requests: ResourceAmounts
    /// For scoring only: containers that request no cpu/memory still count as 100m / 200Mi, so
    /// best-effort pods spread instead of piling onto one "empty" node.
    var scoringMilliCPU: Int64
    var scoringMemory: Int64

    static let defaultScoringMilliCPU: Int64 = 100
    static let defaultScoringMemory: Int64 = 200 << 20

    init(pod: JSONValue) { self.init(spec: Pod(json: pod).spec) }

    init(spec: PodSpec) {
        var sum = ResourceAmounts()
        var containersCPU: Int64 = 0, containersMemory: Int64 = 0
        for container in spec.containers {
            let requests = Self.effectiveRequests(of: container)
            sum += requests.amounts
            containersCPU += requests.hasCPU ? requests.amounts.milliCPU : Self.defaultScoringMilliCPU
            containersMemory += requests.hasMemory ? requests.amounts.memory : Self.defaultScoringMemory
        }
        var initMax = ResourceAmounts()
        var initScoringCPU: Int64 = 0, initScoringMemory: Int64 = 0
        for container in spec.initContainers {
            let requests = Self.effectiveRequests(of: container)
            initMax = initMax.componentMax(requests.amounts)
            initScoringCPU = max(initScoringCPU, requests.hasCPU ? requests.amounts.milliCPU : Self.defaultScoringMilliCPU)
            initScoringMemory = max(initScoringMemory, requests.hasMemory ? requests.amounts.memory : Self.defaultScoringMemory)
        }
        var total = sum.componentMax(initMax)
        let overhead = ResourceAmounts(list: spec.overhead)
        total += overhead
        total.pods = 1
        requests = total
        scoringMilliCPU = max(containersCPU, initScoringCPU) + overhead.milliCPU
        scoringMemory = max(containersMemory, initScoringMemory) + overhead.memory
    }

    private static func effectiveRequests(of container: Container) -> (amounts: ResourceAmounts, hasCPU: Bool, hasMemory: Bool) {
        let requests = container.resources.requests
        let limits = container.resources.limits
        // A limit stands in for a missing request, resource by resource.
        let merged = limits.merging(requests) { _, request in request }
        let amounts = ResourceAmounts(list: .object(merged))
        return (amounts, merged["cpu"] != nil, merged["memory"] != nil)
    }
}

