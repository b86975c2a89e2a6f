import FairKube

/// Amounts of the resources the scheduler accounts for, counted the way Kubernetes counts them:
/// cpu in millicores, memory in bytes, pods as a count, and extended resources
/// (`nvidia.com/gpu`, `example.com/fpga`) in whole units.
struct ResourceAmounts: Equatable, Sendable {
    var milliCPU: Int64 = 0
    var memory: Int64 = 0
    var pods: Int64 = 0
    /// Everything else by name; empty for most pods, so the hot path never touches it.
    var extended: [String: Int64] = [:]

    static let zero = ResourceAmounts()

    /// Reads a resource list (`{"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": 1}`).
    /// Values that are not quantities count as zero: validation is the API server's job, and one
    /// malformed field must not make the scheduler refuse every pod.
    init(list: JSONValue?) {
        guard let members = list?.objectValue else { return }
        for (name, value) in members {
            guard let quantity = Quantity(value) else { continue }
            add(name, quantity)
        }
    }

    init() {}

    mutating func add(_ name: String, _ quantity: Quantity) {
        switch name {
        case "cpu": milliCPU += quantity.milli
        case "memory": memory += quantity.units
        case "pods": pods += quantity.units
        default: extended[name, default: 0] += quantity.units
        }
    }

    func amount(of name: String) -> Int64 {
        switch name {
        case "cpu": return milliCPU
        case "memory": return memory
        case "pods": return pods
        default: return extended[name] ?? 0
        }
    }

    static func + (lhs: ResourceAmounts, rhs: ResourceAmounts) -> ResourceAmounts {
        var sum = lhs
        sum += rhs
        return sum
    }

    static func += (lhs: inout ResourceAmounts, rhs: ResourceAmounts) {
        lhs.milliCPU += rhs.milliCPU
        lhs.memory += rhs.memory
        lhs.pods += rhs.pods
        for (name, value) in rhs.extended { lhs.extended[name, default: 0] += value }
    }

    static func -= (lhs: inout ResourceAmounts, rhs: ResourceAmounts) {
        lhs.milliCPU -= rhs.milliCPU
        lhs.memory -= rhs.memory
        lhs.pods -= rhs.pods
        for (name, value) in rhs.extended {
            let left = (lhs.extended[name] ?? 0) - value
            lhs.extended[name] = left == 0 ? nil : left
        }
    }

    /// The larger of each amount (an init container runs alone, so a pod needs the most of them).
    func componentMax(_ other: ResourceAmounts) -> ResourceAmounts {
        var result = ResourceAmounts()
        result.milliCPU = max(milliCPU, other.milliCPU)
        result.memory = max(memory, other.memory)
        result.pods = max(pods, other.pods)
        result.extended = extended.merging(other.extended, uniquingKeysWith: max)
        return result
    }
}
