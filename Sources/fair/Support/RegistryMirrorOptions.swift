import ArgumentParser
import FairNode

/// `--registry-mirror REGISTRY=MIRROR[,MIRROR…]` and `--registry-mirrors FILE`, for the nodes of
/// `fair server` and `fair node`: where images of a registry are pulled from first.
struct RegistryMirrorOptions: ParsableArguments {
    @Option(name: .customLong("registry-mirror"), help: ArgumentHelp(
        "Pull images of REGISTRY from MIRROR first, REGISTRY=MIRROR[,MIRROR…] (repeatable), e.g. docker.io=127.0.0.1:5000.",
        discussion: "As containerd's hosts.toml and CRI-O's registries.conf: the same repository path at the mirror, the registry itself last. A mirror on loopback is plain HTTP; write http://HOST:PORT for plain HTTP elsewhere."))
    var registryMirror: [String] = []

    @Option(name: .customLong("registry-mirrors"), help: "A file of REGISTRY=MIRROR[,MIRROR…] lines (# comments).", completion: .file())
    var registryMirrorsFile: String?

    func mirrors() throws -> RegistryMirrors {
        var mirrors = RegistryMirrors()
        do {
            if let registryMirrorsFile { try mirrors.add(file: registryMirrorsFile) }
            for entry in registryMirror { try mirrors.add(entry) }
        } catch let error as RegistryMirrors.Invalid {
            throw ValidationError(error.description)
        }
        return mirrors
    }
}
