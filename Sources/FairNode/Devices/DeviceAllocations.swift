import FairArchive
import FairKube
import Foundation

/// Which CDI devices each pod's containers hold, as kubelet's device manager keeps it: a
/// container that asks for N of a kind gets N specific devices no other live pod holds, the
/// same ones every time it is started again, and the record is written to disk (atomically)
/// before a container starts with them, so an agent that restarts adopts what its running
/// containers hold instead of handing their devices out twice.
public final class DeviceAllocations: @unchecked Sendable {
    /// pod UID → container name → qualified device names (`vendor.com/class=name`).
    public private(set) var byPod: [String: [String: [String]]] = [:]
    private let path: String?
    private let lock = NSLock()

    public struct Insufficient: Error, CustomStringConvertible, Equatable {
        public var kind: String
        public var requested: Int
        public var free: Int
        public var description: String { "Insufficient \(kind): \(requested) requested, \(free) free on this node" }
    }

    /// `path`: the checkpoint file (nil: kept in memory only, for fake nodes).
    public init(path: String?) {
        self.path = path
        if let path, let data = FileManager.default.contents(atPath: path),
           let json = try? JSONCoding.decode(data), let pods = json["pods"]?.objectValue {
            for (uid, containers) in pods {
                for (container, devices) in containers.objectValue ?? [:] {
                    byPod[uid, default: [:]][container] = devices.arrayValue?.compactMap(\.stringValue) ?? []
                }
            }
        }
    }

    /// The devices `container` of pod `uid` holds, allocating what it asks for (kind → count)
    /// from `available` on its first start.
    public func allocate(pod uid: String, container: String, requests: [String: Int],
                         available: [String: [CDIRegistry.ResolvedDevice]]) throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        if let held = byPod[uid]?[container] { return held }
        let taken = Set(byPod.filter { $0.key != uid }.values.flatMap { $0.values.flatMap { $0 } })
            .union(byPod[uid]?.values.flatMap { $0 } ?? [])
        var chosen: [String] = []
        for (kind, count) in requests.sorted(by: { $0.key < $1.key }) where count > 0 {
            let free = (available[kind] ?? []).map(\.qualifiedName).filter { !taken.contains($0) }
            guard free.count >= count else { throw Insufficient(kind: kind, requested: count, free: free.count) }
            chosen += free.prefix(count)
        }
        guard !chosen.isEmpty else { return [] }
        var next = byPod
        next[uid, default: [:]][container] = chosen
        try save(next)
        byPod = next
        return chosen
    }

    /// Frees what a pod held, once its containers are gone.
    public func release(pod uid: String) throws {
        lock.lock(); defer { lock.unlock() }
        guard byPod[uid] != nil else { return }
        var next = byPod
        next[uid] = nil
        try save(next)
        byPod = next
    }

    /// Frees what pods no longer on the node held (after a restart, the pods it still runs).
    public func retain(pods live: Set<String>) throws {
        lock.lock(); defer { lock.unlock() }
        let next = byPod.filter { live.contains($0.key) }
        guard next.count != byPod.count else { return }
        try save(next)
        byPod = next
    }

    /// How many of each kind are held.
    public func used() -> [String: Int] {
        lock.lock(); defer { lock.unlock() }
        var counts: [String: Int] = [:]
        for name in byPod.values.flatMap({ $0.values.flatMap { $0 } }) {
            counts[String(name.prefix { $0 != "=" }), default: 0] += 1
        }
        return counts
    }

    private func save(_ pods: [String: [String: [String]]]) throws {
        guard let path else { return }
        let json: JSONValue = ["pods": .object(pods.mapValues { containers in
            .object(containers.mapValues { .array($0.map(JSONValue.string)) })
        })]
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(to: path, bytes: [UInt8](JSONCoding.encode(json)), permissions: 0o600)
    }
}
