/// The parts of the OCI runtime-spec `config.json` (runtime-spec 1.0.2, linux) fair writes.
/// Optional fields left nil are omitted from the JSON.
struct OCIRuntimeConfig: Encodable, Equatable {
    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname: String
    var mounts: [Mount]
    var linux: Linux
    /// Run by runc around the container's life: only CDI specs add them.
    var hooks: Hooks?

    struct Hooks: Encodable, Equatable {
        var prestart: [Hook]?
        var createRuntime: [Hook]?
        var createContainer: [Hook]?
        var startContainer: [Hook]?
        var poststart: [Hook]?
        var poststop: [Hook]?
    }

    struct Hook: Encodable, Equatable {
        var path: String
        var args: [String]?
        var env: [String]?
        var timeout: Int64?
    }

    struct Process: Encodable, Equatable {
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var rlimits: [Rlimit]
        var noNewPrivileges = true
    }

    struct User: Encodable, Equatable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }

    struct Capabilities: Encodable, Equatable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
    }

    struct Rlimit: Encodable, Equatable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }

    struct Root: Encodable, Equatable {
        var path: String
        var readonly: Bool
    }

    struct Mount: Encodable, Equatable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }

    struct Linux: Encodable, Equatable {
        var resources: Resources
        var cgroupsPath: String
        var namespaces: [Namespace]
        var maskedPaths: [String]
        var readonlyPaths: [String]
        /// nil: no filter (a privileged or `Unconfined` container).
        var seccomp: Seccomp?
        /// Device nodes runc creates in the container's /dev (CDI devices).
        var devices: [Device]?
    }

    struct Device: Encodable, Equatable {
        var path: String
        var type: String
        var major: Int64
        var minor: Int64
        var fileMode: UInt32?
        var uid: UInt32?
        var gid: UInt32?
    }

    struct Seccomp: Encodable, Equatable {
        var defaultAction: String
        var defaultErrnoRet: UInt32
        var architectures: [String]
        var syscalls: [SeccompRule]
    }

    struct SeccompRule: Encodable, Equatable {
        var names: [String]
        var action: String
        var errnoRet: UInt32?
        var args: [SeccompArgument]?

        init(names: [String], action: String, errnoRet: UInt32? = nil, args: [SeccompArgument]? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    /// Argument `index` compared by `op` with `value` (SCMP_CMP_MASKED_EQ: `arg & value == valueTwo`).
    struct SeccompArgument: Encodable, Equatable {
        var index: UInt32
        var value: UInt64
        var valueTwo: UInt64 = 0
        var op: String
    }

    struct Resources: Encodable, Equatable {
        var devices: [DeviceRule]
        var memory: Memory?
        var cpu: CPU?
    }

    struct DeviceRule: Encodable, Equatable {
        var allow: Bool
        var access: String
        /// nil: every type and number (the deny-all rule).
        var type: String?
        var major: Int64?
        var minor: Int64?
    }

    struct Memory: Encodable, Equatable {
        var limit: Int64
        /// Memory plus swap; equal to `limit` means no swap, so the limit is really hit.
        var swap: Int64?
    }

    struct CPU: Encodable, Equatable {
        var quota: Int64
        var period: UInt64
    }

    struct Namespace: Encodable, Equatable {
        var type: String
    }
}
