import Foundation

/// Applies the CDI devices a container was given to its runc config, as the CDI reference
/// library edits an OCI spec: device nodes created in the container's /dev with a cgroup rule
/// allowing each (after the deny-all rule), mounts, environment (a device's value replaces one
/// of the same name), hooks by stage and extra groups. Several devices of one spec repeat the
/// spec's own edits: a node, mount or hook already applied is applied once.
enum CDIApplication {
    /// `hostNode` completes a node from the host's (tests stand in for nodes a host lacks).
    static func apply(_ devices: [CDIRegistry.ResolvedDevice], to config: inout OCIRuntimeConfig,
                      hostNode: (CDIContainerEdits.DeviceNode) throws -> CDIContainerEdits.DeviceNode.OnHost = { try $0.onHost() }) throws {
        guard !devices.isEmpty else { return }
        let edits = devices.reduce(CDIContainerEdits()) { $0.appending($1.edits) }

        var nodes: [OCIRuntimeConfig.Device] = config.linux.devices ?? []
        for node in edits.deviceNodes where !nodes.contains(where: { $0.path == node.path }) {
            let onHost = try hostNode(node)
            let type = onHost.type == "u" ? "c" : onHost.type
            nodes.append(.init(path: onHost.path, type: type, major: onHost.major, minor: onHost.minor,
                               fileMode: onHost.fileMode, uid: onHost.uid, gid: onHost.gid))
            // FIFOs have no device rule; an empty access ("none") allows nothing.
            if type != "p", !onHost.permissions.isEmpty {
                config.linux.resources.devices.append(.init(allow: true, access: onHost.permissions, type: type,
                                                            major: onHost.major, minor: onHost.minor))
            }
        }
        config.linux.devices = nodes

        for mount in edits.mounts where !config.mounts.contains(where: { $0.destination == mount.containerPath }) {
            let bind = mount.options.contains("bind") || mount.options.contains("rbind")
            config.mounts.append(.init(destination: mount.containerPath, type: mount.type ?? (bind ? "bind" : "none"),
                                       source: mount.hostPath, options: mount.options))
        }

        for variable in edits.env {
            let name = variable.prefix { $0 != "=" }
            config.process.env.removeAll { $0.prefix { $0 != "=" } == name }
            config.process.env.append(variable)
        }

        var hooks = config.hooks ?? OCIRuntimeConfig.Hooks()
        var applied: [CDIContainerEdits.Hook] = []
        for hook in edits.hooks where !applied.contains(hook) {
            applied.append(hook)
            let entry = OCIRuntimeConfig.Hook(path: hook.path, args: hook.args.isEmpty ? nil : hook.args,
                                              env: hook.env.isEmpty ? nil : hook.env, timeout: hook.timeout)
            switch hook.hookName {
            case "prestart": hooks.prestart = (hooks.prestart ?? []) + [entry]
            case "createRuntime": hooks.createRuntime = (hooks.createRuntime ?? []) + [entry]
            case "createContainer": hooks.createContainer = (hooks.createContainer ?? []) + [entry]
            case "startContainer": hooks.startContainer = (hooks.startContainer ?? []) + [entry]
            case "poststart": hooks.poststart = (hooks.poststart ?? []) + [entry]
            default: hooks.poststop = (hooks.poststop ?? []) + [entry]
            }
        }
        if !applied.isEmpty { config.hooks = hooks }

        let groups = edits.additionalGIDs.filter { $0 != config.process.user.gid && !(config.process.user.additionalGids ?? []).contains($0) }
        if !groups.isEmpty { config.process.user.additionalGids = (config.process.user.additionalGids ?? []) + groups }
    }
}
