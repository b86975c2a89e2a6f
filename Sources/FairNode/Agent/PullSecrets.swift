import FairKube
import FairRegistry
import Foundation

/// A pod's `imagePullSecrets`, read into registry credentials. A Secret that is missing or of
/// another type is skipped, as kubelet skips it (the pull then goes on with what is left, and
/// fails with the registry's own refusal if that is not enough).
enum PullSecrets {
    static func credentials(namespace: String, names: [String], sources: ConfigSources) -> PullCredentials {
        guard !names.isEmpty else { return .none }
        var configs: [[UInt8]] = []
        for name in names {
            guard let data = try? sources.read(.secret, namespace, name) else { continue }
            if let config = data[".dockerconfigjson"] ?? data[".dockercfg"] { configs.append(config) }
        }
        return PullCredentials(dockerConfigs: configs)
    }
}
