/// An image configuration (image-spec config.md). Field names follow the spec's JSON exactly,
/// including its capitalised execution parameters.
public struct ImageConfig: Codable, Hashable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ExecutionConfig?
    public var rootfs: RootFS
    public var history: [History]?

    public init(
        created: String?, architecture: String, os: String, variant: String? = nil,
        config: ExecutionConfig?, rootfs: RootFS, history: [History]?
    ) {
        self.created = created
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    public var platform: Platform { Platform(architecture: architecture, os: os, variant: variant) }

    /// The execution parameters a runtime uses when it starts the image.
    public struct ExecutionConfig: Codable, Hashable, Sendable {
        public var User: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: EmptyObject]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?

        public init() {}
    }

    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String = "layers"
        public var diff_ids: [Digest]

        public init(diffIDs: [Digest]) { self.diff_ids = diffIDs }
    }

    public struct History: Codable, Hashable, Sendable {
        public var created: String?
        public var created_by: String?
        public var author: String?
        public var comment: String?
        public var empty_layer: Bool?

        public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.created_by = createdBy
            self.comment = comment
            self.empty_layer = emptyLayer
        }
    }
}

/// `{}`: the value type of ExposedPorts and Volumes maps.
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
}

extension ImageConfig.ExecutionConfig {
    /// Looks up `NAME` in the `NAME=value` environment list.
    public func environmentValue(_ name: String) -> String? {
        Env?.last(where: { $0.hasPrefix(name + "=") }).map { String($0.dropFirst(name.count + 1)) }
    }

    /// Sets `NAME=value`, replacing an existing entry in place so the order stays stable.
    public mutating func setEnvironment(_ name: String, _ value: String) {
        var env = Env ?? []
        let entry = "\(name)=\(value)"
        if let index = env.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            env[index] = entry
        } else {
            env.append(entry)
        }
        Env = env
    }
}
