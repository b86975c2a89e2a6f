import Foundation

/// The CDI devices a node has, read from its spec directories as containerd, CRI-O and podman
/// read them: `/etc/cdi` first and `/var/run/cdi` after it, each directory's `.json`, `.yaml`
/// and `.yml` files in name order. A device defined again in a later directory replaces the
/// earlier one (a generated spec in /var/run/cdi overrides a static one in /etc/cdi); defined
/// twice in one directory, it is a conflict and neither is used. A file that does not parse
/// is reported and skipped; the others still count.
public struct CDIRegistry: Sendable {
    public static let defaultDirectories = ["/etc/cdi", "/var/run/cdi"]

    /// A device by its fully qualified name, `vendor.com/class=name`.
    public struct ResolvedDevice: Sendable, Equatable {
        public var kind: String
        public var name: String
        /// The spec's own edits followed by the device's.
        public var edits: CDIContainerEdits
        public var file: String

        public var qualifiedName: String { "\(kind)=\(name)" }
    }

    public private(set) var devices: [String: ResolvedDevice] = [:]
    /// One line per spec file or device that could not be used, naming the file and why.
    public private(set) var problems: [String] = []

    public init(directories: [String] = CDIRegistry.defaultDirectories) {
        for directory in directories {
            var fromThisDirectory: [String: ResolvedDevice] = [:]
            var conflicting: Set<String> = []
            for file in Self.specFiles(in: directory) {
                let spec: CDISpec
                do {
                    spec = try CDISpec.load(path: file)
                } catch {
                    problems.append(error.description)
                    continue
                }
                for device in spec.devices {
                    let resolved = ResolvedDevice(kind: spec.kind, name: device.name, edits: spec.edits.appending(device.edits), file: file)
                    if let earlier = fromThisDirectory[resolved.qualifiedName] {
                        problems.append("CDI device \(resolved.qualifiedName) is defined in both \(earlier.file) and \(file): neither is used")
                        conflicting.insert(resolved.qualifiedName)
                    }
                    fromThisDirectory[resolved.qualifiedName] = resolved
                }
            }
            for name in conflicting { fromThisDirectory[name] = nil }
            devices.merge(fromThisDirectory) { _, later in later }
        }
    }

    private static func specFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { "\(directory)/\($0)" }
    }

    public func device(_ qualifiedName: String) -> ResolvedDevice? { devices[qualifiedName] }

    /// Each kind's devices that stand for hardware, the ones a node hands out one by one: not
    /// the `all` device NVIDIA's generator adds, and not a second name for the same device
    /// nodes (a spec may name each GPU by index and by UUID). Sorted by name, so the first of
    /// each set of aliases is kept and allocation is stable.
    public var allocatable: [String: [ResolvedDevice]] {
        var result: [String: [ResolvedDevice]] = [:]
        var seen: [String: Set<[String]>] = [:]
        for device in devices.values.sorted(by: { ($0.kind, $0.name) < ($1.kind, $1.name) }) where device.name != "all" {
            let nodes = device.edits.deviceNodes.map(\.hostPath).sorted()
            if !nodes.isEmpty {
                guard seen[device.kind, default: []].insert(nodes).inserted else { continue }
            }
            result[device.kind, default: []].append(device)
        }
        return result
    }
}
