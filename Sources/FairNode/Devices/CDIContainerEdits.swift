import FairKube
import Foundation

/// The changes a CDI spec makes to a container's OCI config: environment, device nodes (with
/// their cgroup device rules), mounts, hooks and extra group IDs. `intelRdt` and `netDevices`
/// are refused rather than dropped: a container must not start without what its device needs.
public struct CDIContainerEdits: Sendable, Equatable {
    public var env: [String] = []
    public var deviceNodes: [DeviceNode] = []
    public var mounts: [Mount] = []
    public var hooks: [Hook] = []
    public var additionalGIDs: [UInt32] = []

    public struct DeviceNode: Sendable, Equatable {
        /// Where the container sees it.
        public var path: String
        /// Where it is on the host (`path` when not given).
        public var hostPath: String
        /// "c", "b", "u" or "p"; nil: read from the host's node.
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        /// Cgroup access, some of "rwm"; "" means none ("none" in the file). Default "rwm".
        public var permissions: String
        public var uid: UInt32?
        public var gid: UInt32?
    }

    public struct Mount: Sendable, Equatable {
        public var hostPath: String
        public var containerPath: String
        public var type: String?
        public var options: [String]
    }

    public struct Hook: Sendable, Equatable {
        /// createRuntime, createContainer, startContainer, poststart, poststop (or prestart).
        public var hookName: String
        public var path: String
        public var args: [String]
        public var env: [String]
        public var timeout: Int64?
    }

    public static let hookNames: Set<String> = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

    public init() {}

    public var isEmpty: Bool { env.isEmpty && deviceNodes.isEmpty && mounts.isEmpty && hooks.isEmpty && additionalGIDs.isEmpty }

    /// These edits followed by `other`'s, as a container given several devices gets them.
    public func appending(_ other: CDIContainerEdits) -> CDIContainerEdits {
        var merged = self
        merged.env += other.env
        merged.deviceNodes += other.deviceNodes
        merged.mounts += other.mounts
        merged.hooks += other.hooks
        merged.additionalGIDs += other.additionalGIDs.filter { !merged.additionalGIDs.contains($0) }
        return merged
    }

    init(json: JSONValue?, file: String, field: String) throws(CDIError) {
        guard let json, !json.isNull else { return }
        guard let object = json.objectValue else { throw CDIError.invalid(file: file, field: field, "must be a mapping") }
        for key in object.keys where !["env", "deviceNodes", "mounts", "hooks", "additionalGids", "additionalGIDs"].contains(key) {
            throw CDIError.invalid(file: file, field: "\(field).\(key)",
                                   key == "intelRdt" || key == "netDevices" ? "is not supported by this node" : "is not a CDI container edit")
        }
        for (index, entry) in try Self.list(object["env"], file, "\(field).env").enumerated() {
            guard let text = entry.stringValue, let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw CDIError.invalid(file: file, field: "\(field).env[\(index)]", "must be NAME=VALUE, got \(CDISpec.show(entry))")
            }
            env.append(text)
        }
        for (index, entry) in try Self.list(object["deviceNodes"], file, "\(field).deviceNodes").enumerated() {
            deviceNodes.append(try Self.deviceNode(entry, file: file, field: "\(field).deviceNodes[\(index)]"))
        }
        for (index, entry) in try Self.list(object["mounts"], file, "\(field).mounts").enumerated() {
            let here = "\(field).mounts[\(index)]"
            guard let hostPath = entry["hostPath"]?.stringValue, hostPath.hasPrefix("/") else {
                throw CDIError.invalid(file: file, field: "\(here).hostPath", "must be an absolute path, got \(CDISpec.show(entry["hostPath"]))")
            }
            guard let containerPath = entry["containerPath"]?.stringValue, containerPath.hasPrefix("/") else {
                throw CDIError.invalid(file: file, field: "\(here).containerPath", "must be an absolute path, got \(CDISpec.show(entry["containerPath"]))")
            }
            let options = try Self.strings(entry["options"], file, "\(here).options")
            mounts.append(Mount(hostPath: hostPath, containerPath: containerPath, type: entry["type"]?.stringValue, options: options))
        }
        for (index, entry) in try Self.list(object["hooks"], file, "\(field).hooks").enumerated() {
            let here = "\(field).hooks[\(index)]"
            guard let name = entry["hookName"]?.stringValue, Self.hookNames.contains(name) else {
                throw CDIError.invalid(file: file, field: "\(here).hookName",
                                       "must be one of \(Self.hookNames.sorted().joined(separator: ", ")), got \(CDISpec.show(entry["hookName"]))")
            }
            guard let path = entry["path"]?.stringValue, path.hasPrefix("/") else {
                throw CDIError.invalid(file: file, field: "\(here).path", "must be an absolute path, got \(CDISpec.show(entry["path"]))")
            }
            let timeout = entry["timeout"]?.intValue
            if let timeout, timeout <= 0 { throw CDIError.invalid(file: file, field: "\(here).timeout", "must be more than 0, got \(timeout)") }
            hooks.append(Hook(hookName: name, path: path, args: try Self.strings(entry["args"], file, "\(here).args"),
                              env: try Self.strings(entry["env"], file, "\(here).env"), timeout: timeout))
        }
        let gids = object["additionalGids"] ?? object["additionalGIDs"]
        for (index, entry) in try Self.list(gids, file, "\(field).additionalGids").enumerated() {
            guard let gid = entry.intValue, gid >= 0, gid <= Int64(UInt32.max) else {
                throw CDIError.invalid(file: file, field: "\(field).additionalGids[\(index)]", "must be a group ID, got \(CDISpec.show(entry))")
            }
            if gid != 0 && !additionalGIDs.contains(UInt32(gid)) { additionalGIDs.append(UInt32(gid)) }  // 0 is ignored, as the spec says
        }
    }

    private static func deviceNode(_ entry: JSONValue, file: String, field: String) throws(CDIError) -> DeviceNode {
        guard let path = entry["path"]?.stringValue, path.hasPrefix("/") else {
            throw CDIError.invalid(file: file, field: "\(field).path", "must be an absolute path, got \(CDISpec.show(entry["path"]))")
        }
        let hostPath = entry["hostPath"]?.stringValue ?? path
        guard hostPath.hasPrefix("/") else { throw CDIError.invalid(file: file, field: "\(field).hostPath", "must be an absolute path, got \"\(hostPath)\"") }
        let type = entry["type"]?.stringValue
        if let type, !["c", "b", "u", "p"].contains(type) {
            throw CDIError.invalid(file: file, field: "\(field).type", "must be c, b, u or p, got \"\(type)\"")
        }
        var permissions = entry["permissions"]?.stringValue ?? ""
        if permissions.isEmpty {
            permissions = "rwm"
        } else if permissions == "none" {
            permissions = ""
        } else if !permissions.allSatisfy({ "rwm".contains($0) }) {
            throw CDIError.invalid(file: file, field: "\(field).permissions", "must be some of r, w and m, or none; got \"\(permissions)\"")
        }
        func number(_ key: String, max: Int64) throws(CDIError) -> Int64? {
            guard let value = entry[key], !value.isNull else { return nil }
            guard let number = value.intValue, number >= 0, number <= max else {
                throw CDIError.invalid(file: file, field: "\(field).\(key)", "must be a number from 0 to \(max), got \(CDISpec.show(value))")
            }
            return number
        }
        let major = try number("major", max: Int64(UInt32.max)), minor = try number("minor", max: Int64(UInt32.max))
        let mode = try number("fileMode", max: 0o7777)
        let uid = try number("uid", max: Int64(UInt32.max)), gid = try number("gid", max: Int64(UInt32.max))
        return DeviceNode(path: path, hostPath: hostPath, type: type, major: major, minor: minor, fileMode: mode.map(UInt32.init),
                          permissions: permissions, uid: uid.map(UInt32.init), gid: gid.map(UInt32.init))
    }

    private static func list(_ value: JSONValue?, _ file: String, _ field: String) throws(CDIError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw CDIError.invalid(file: file, field: field, "must be a list") }
        return items
    }

    private static func strings(_ value: JSONValue?, _ file: String, _ field: String) throws(CDIError) -> [String] {
        var result: [String] = []
        for (index, item) in try list(value, file, field).enumerated() {
            guard let text = item.stringValue else { throw CDIError.invalid(file: file, field: "\(field)[\(index)]", "must be a string") }
            result.append(text)
        }
        return result
    }
}
