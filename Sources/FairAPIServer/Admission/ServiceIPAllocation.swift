import FairKube
import Foundation

/// Cluster IPs as kube-apiserver allocates them: a Service of type ClusterIP, NodePort or
/// LoadBalancer is given a free address of the range when it asks for none, keeps the one it
/// asks for when that is in the range and free, and keeps it for life; `clusterIP: None` is a
/// headless Service (no address; DNS names its pods); ExternalName has none. `clusterIPs`,
/// `ipFamilies` and `ipFamilyPolicy` are written as a single-stack IPv4 cluster writes them.
/// Addresses in use are read from the stored Services, under the API server's allocation lock.
enum ServiceIPAllocation {
    static let headless = "None"

    static func admitCreate(_ service: inout JSONValue, range: ServiceIPRange, store: ObjectStore) throws {
        let name = service.name ?? ""
        let type = service.value(at: "spec.type")?.stringValue ?? "ClusterIP"
        var requested = service.value(at: "spec.clusterIP")?.stringValue ?? ""
        if requested.isEmpty, let first = service.value(at: "spec.clusterIPs")?.arrayValue?.first?.stringValue { requested = first }
        if type == "ExternalName" {
            guard requested.isEmpty || requested == headless else {
                throw invalid(name, "spec.clusterIP", "Invalid value: \"\(requested)\": may not be set for ExternalName services")
            }
            service.set(nil, at: "spec.clusterIP")
            service.set(nil, at: "spec.clusterIPs")
            return
        }
        if requested == headless {
            service.set(.string(headless), at: "spec.clusterIP")
            service.set([.string(headless)], at: "spec.clusterIPs")
            setFamilies(&service)
            return
        }
        let used = Set(store.list(KindDefinition.service.storageKey, namespace: nil).items.compactMap {
            $0.object.value(at: "spec.clusterIP")?.stringValue
        })
        let address: String
        if requested.isEmpty {
            guard let free = firstFree(range, used: used) else {
                throw APIError(code: 500, reason: "InternalError",
                               message: "Internal error occurred: failed to allocate a serviceIP: range is full")
            }
            address = free
        } else {
            guard ServiceIPRange.parse(requested) != nil else {
                throw invalid(name, "spec.clusterIPs[0]", "Invalid value: \"\(requested)\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
            }
            guard range.contains(requested) else {
                throw invalid(name, "spec.clusterIPs", "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): provided IP is not in the valid range. The range of valid IPs is \(range)")
            }
            guard !used.contains(requested) else {
                throw invalid(name, "spec.clusterIPs", "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): provided IP is already allocated")
            }
            address = requested
        }
        service.set(.string(address), at: "spec.clusterIP")
        service.set([.string(address)], at: "spec.clusterIPs")
        setFamilies(&service)
    }

    /// On update the address stays: a body without one keeps it, a different one is refused.
    static func admitUpdate(old: JSONValue, new: inout JSONValue) throws {
        let before = old.value(at: "spec.clusterIP")?.stringValue ?? ""
        let type = new.value(at: "spec.type")?.stringValue ?? "ClusterIP"
        guard !before.isEmpty, type != "ExternalName" else { return }
        let after = new.value(at: "spec.clusterIP")?.stringValue ?? ""
        if after.isEmpty {
            new.set(old.value(at: "spec.clusterIP"), at: "spec.clusterIP")
            new.set(old.value(at: "spec.clusterIPs"), at: "spec.clusterIPs")
            if new.value(at: "spec.ipFamilies") == nil { new.set(old.value(at: "spec.ipFamilies"), at: "spec.ipFamilies") }
            if new.value(at: "spec.ipFamilyPolicy") == nil { new.set(old.value(at: "spec.ipFamilyPolicy"), at: "spec.ipFamilyPolicy") }
        } else if after != before {
            throw invalid(new.name ?? "", "spec.clusterIPs[0]", "Invalid value: []string{\"\(after)\"}: may not change once set")
        }
    }

    /// Above the static band first (see `ServiceIPRange.staticBand`), then inside it once the
    /// rest is taken, as kube-apiserver allocates.
    private static func firstFree(_ range: ServiceIPRange, used: Set<String>) -> String? {
        let band = range.staticBand
        let offsets = Array(stride(from: band + 1, through: range.usableCount, by: 1)) + Array(stride(from: 1, through: band, by: 1))
        return offsets.lazy.map(range.address).first { !used.contains($0) }
    }

    private static func setFamilies(_ service: inout JSONValue) {
        if service.value(at: "spec.ipFamilies") == nil { service.set(["IPv4"], at: "spec.ipFamilies") }
        if service.value(at: "spec.ipFamilyPolicy") == nil { service.set("SingleStack", at: "spec.ipFamilyPolicy") }
    }

    private static func invalid(_ name: String, _ field: String, _ message: String) -> APIError {
        APIError.invalid(.service, name, [(field, message)])
    }
}
