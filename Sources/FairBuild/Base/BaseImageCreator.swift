import FairArchive
import FairOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct BaseImageOptions: Sendable {
    public var output: String
    public var tag: ImageTag
    public var suite = "bookworm"
    public var mirror: String?
    public var extraPackages: [String] = []
    public var epoch: Int64 = BuildOptions.defaultEpoch
    public var compression: CompressionAlgorithm = .gzip

    public init(output: String, tag: ImageTag) {
        self.output = output
        self.tag = tag
    }
}

public struct BaseImageResult: Sendable {
    public var digest: String
    public var tag: String
    public var output: String
    public var pythonVersion: String
    public var layerSize: Int64
}

/// `fair base create`: a minimal Debian root filesystem with python3, made by
/// `debootstrap --variant=minbase` and packed as a one-layer image whose config records the
/// Python and glibc versions, so `fair build` can install wheels that fit it. This is how a
/// machine with no registry access gets a real Python base image.
public struct BaseImageCreator {
    public var options: BaseImageOptions
    public var home: FairHome
    public var log: (String) -> Void

    public init(options: BaseImageOptions, home: FairHome = FairHome(), log: @escaping (String) -> Void) {
        self.options = options
        self.home = home
        self.log = log
    }

    public func create() throws -> BaseImageResult {
        guard geteuid() == 0 else {
            throw BuildError.baseCreation("needs root: debootstrap creates files owned by other users; run it as root (sudo)")
        }
        guard let debootstrap = ["/usr/sbin/debootstrap", "/usr/bin/debootstrap"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BuildError.toolMissing(tool: "debootstrap", hint: "install it with `apt-get install debootstrap`")
        }
        let output = ImageBuilder.realPath(options.output, relativeTo: FileManager.default.currentDirectoryPath)
        let outputDirectory = (output as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: outputDirectory) else {
            throw BuildError.invalidOption(option: "--output", message: "directory \(outputDirectory) does not exist")
        }

        let scratch = try home.makeScratchDirectory(prefix: "base")
        let rootfs = "\(scratch)/rootfs"
        // Never delete through a live mount: unmount first, and keep the directory if that fails.
        let cleanup = {
            if Mounts.unmountAll(under: rootfs).isEmpty { try? FileManager.default.removeItem(atPath: scratch) }
        }
        TemporaryFiles.registerCleanup(scratch, cleanup)
        defer {
            TemporaryFiles.unregisterCleanup(scratch)
            cleanup()
        }
        let mirror = options.mirror ?? Self.aptMirror() ?? "http://deb.debian.org/debian"
        let packages = ["python3"] + options.extraPackages
        log("debootstrap --variant=minbase \(options.suite) from \(mirror) with \(packages.joined(separator: ","))")
        do {
            try ToolRun(executable: debootstrap, arguments: ["--variant=minbase", "--include=\(packages.joined(separator: ","))", options.suite, rootfs, mirror])
                .run(logPath: "\(scratch)/debootstrap.log")
        } catch let failure as ToolRun.Failure {
            Mounts.unmountAll(under: rootfs)
            let tail = failure.log.split(separator: "\n").suffix(4).joined(separator: " | ")
            throw BuildError.baseCreation("debootstrap failed (exit \(failure.status)): \(tail)")
        } catch {
            Mounts.unmountAll(under: rootfs)
            throw error
        }
        let stillMounted = Mounts.unmountAll(under: rootfs)
        guard stillMounted.isEmpty else {
            throw BuildError.baseCreation("cannot unmount \(stillMounted.joined(separator: ", ")) left by debootstrap; unmount it and remove \(scratch)")
        }
        try trim(rootfs)

        let pythonVersion: String
        do {
            pythonVersion = try ToolRun(executable: "/usr/sbin/chroot", arguments: [rootfs, "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).output()
        } catch {
            throw BuildError.baseCreation("python3 does not run in the new root filesystem (chroot \(rootfs) python3 failed)")
        }
        let glibc = (try? ToolRun(executable: "/usr/sbin/chroot", arguments: [rootfs, "getconf", "GNU_LIBC_VERSION"]).output())?
            .split(separator: " ").last.map(String.init) ?? "2.36"

        log("packing the root filesystem")
        let writer = LayerWriter(compression: options.compression, level: options.compression.defaultLevel, mtime: options.epoch)
        let layer = try writer.write(try RootfsWalker(root: rootfs).walk(), to: "\(scratch)/rootfs.layer")

        let created = ImageConfigurator.timestamp(options.epoch)
        var execution = ImageConfig.ExecutionConfig()
        execution.Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
        execution.Cmd = ["python3"]
        execution.Labels = [
            ImageConfigurator.pythonVersionLabel: pythonVersion,
            ImageConfigurator.glibcVersionLabel: glibc,
            "dev.fair.base.suite": options.suite,
            "dev.fair.base.packages": packages.joined(separator: ","),
            "org.opencontainers.image.title": options.tag.name,
        ]
        let config = ImageConfig(
            created: created, architecture: "amd64", os: "linux", config: execution,
            rootfs: .init(diffIDs: [layer.diffID]),
            history: [.init(created: created, createdBy: "fair base create: debootstrap --variant=minbase \(options.suite) +\(packages.joined(separator: ","))")])
        let configBytes = try CanonicalJSON.encode(config)
        let configDigest = Digest.sha256(of: configBytes)
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.imageConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: [Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)],
            annotations: [AnnotationKey.created: created])
        let manifestBytes = try CanonicalJSON.encode(manifest)
        let manifestDigest = Digest.sha256(of: manifestBytes)
        let image = ImageToWrite(
            manifest: Descriptor(mediaType: MediaType.imageManifest, digest: manifestDigest, size: Int64(manifestBytes.count),
                                 annotations: [AnnotationKey.refName: options.tag.description]),
            blobs: [
                BlobToWrite(digest: manifestDigest, size: Int64(manifestBytes.count), content: .bytes(manifestBytes), verify: false),
                BlobToWrite(digest: configDigest, size: Int64(configBytes.count), content: .bytes(configBytes), verify: false),
                BlobToWrite(digest: layer.digest, size: layer.size, content: .file(path: layer.path), verify: false),
            ])
        try OCIArchiveWriter.write(image, to: output, mtime: options.epoch)
        return BaseImageResult(digest: manifestDigest.description, tag: options.tag.description, output: output,
                               pythonVersion: pythonVersion, layerSize: layer.size)
    }

    /// Drops what a container image has no use for: package caches, apt lists, logs, and device
    /// nodes (the runtime mounts its own /dev).
    private func trim(_ rootfs: String) throws {
        for directory in ["var/cache/apt/archives", "var/lib/apt/lists", "var/log", "dev", "proc", "sys", "run", "tmp", "var/tmp"] {
            let path = "\(rootfs)/\(directory)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name != "partial" && name != "lock" {
                try? FileManager.default.removeItem(atPath: "\(path)/\(name)")
            }
        }
        for file in ["var/cache/debconf/templates.dat-old", "var/cache/debconf/config.dat-old", "etc/machine-id"] {
            try? FileManager.default.removeItem(atPath: "\(rootfs)/\(file)")
        }
    }

    /// The first Debian mirror the machine's apt is configured with, so debootstrap reaches the
    /// same (possibly local) mirror apt does.
    static func aptMirror() -> String? {
        var candidates: [String] = []
        if let text = try? String(contentsOfFile: "/etc/apt/sources.list.d/debian.sources", encoding: .utf8) {
            candidates += text.split(separator: "\n").filter { $0.hasPrefix("URIs:") }
                .flatMap { $0.dropFirst("URIs:".count).split(separator: " ").map(String.init) }
        }
        if let text = try? String(contentsOfFile: "/etc/apt/sources.list", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("deb ") {
                let words = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("[") && !$0.hasSuffix("]") }
                if words.count > 1 { candidates.append(words[1]) }
            }
        }
        return candidates.first { !$0.contains("security") && ($0.hasPrefix("http://") || $0.hasPrefix("https://")) }
    }
}
