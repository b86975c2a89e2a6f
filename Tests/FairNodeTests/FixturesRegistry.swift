import FairArchive
import FairOCI
import FairRegistry
import FairServer
import Foundation
import XCTest

/// The bundled server's embedded registry, started in this process on free ports for a test
/// class: a real OCI distribution API over plain HTTP on 127.0.0.1.
final class FixtureRegistry: @unchecked Sendable {
    let directory: String
    let host: String
    private let task: Task<Void, Never>
    private let stopped: DispatchSemaphore
    private let clients: RegistryClients

    /// Starts the server and waits (at most a minute) until it serves.
    static func start() throws -> FixtureRegistry {
        let directory = NSTemporaryDirectory() + "fair-node-registry-\(UUID().uuidString.prefix(8))"
        var options = ServerOptions(dataDirectory: directory)
        options.port = 0
        options.registryPort = 0
        let server = try BundledServer(options: options)
        let ready = DispatchSemaphore(value: 0)
        let address = LockedValue<String>()
        let api = LockedValue<String>()
        let stopped = DispatchSemaphore(value: 0)
        let task = Task {
            _ = try? await server.run { endpoints in
                api.set(endpoints.apiURL)
                address.set(endpoints.registry)
                ready.signal()
            }
            stopped.signal()
        }
        guard ready.wait(timeout: .now() + 60) == .success, let host = address.get(), let apiURL = api.get() else {
            task.cancel()
            _ = stopped.wait(timeout: .now() + 30)
            try? FileManager.default.removeItem(atPath: directory)
            throw XCTSkip("the embedded registry did not start")
        }
        // What fair does with the cluster's token: exchange it over TLS for scoped tokens.
        let credentials = Credentials(username: "fair", password: server.token, sendsOnlyOverTLS: true,
                                      tokenEndpoint: apiURL + "/v2/token", tokenServerCAFile: directory + "/tls/ca.crt")
        return FixtureRegistry(directory: directory, host: host, credentials: credentials, task: task, stopped: stopped)
    }

    private init(directory: String, host: String, credentials: Credentials, task: Task<Void, Never>, stopped: DispatchSemaphore) {
        self.directory = directory
        self.host = host
        self.task = task
        self.stopped = stopped
        self.clients = RegistryClients(store: BlobStore(directory: directory + "/push-cache"))
        // Pushes need the server's credential; nodes pull anonymously, as in a cluster.
        clients.fallbackCredentials = { _ in credentials }
    }

    func stop() {
        task.cancel()
        _ = stopped.wait(timeout: .now() + 30)
        // The API server's store may still be closing its files as the tree goes; try again.
        for _ in 0..<20 where FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.removeItem(atPath: directory)
            } catch {
                usleep(50_000)
            }
        }
    }

    /// Pushes a single-platform image made of `layers` with `config` (the image config's
    /// `config` object) as `repository:tag`; returns the manifest's digest.
    @discardableResult
    func push(_ layers: [FixtureLayer], config: ImageConfig.ExecutionConfig = ImageConfig.ExecutionConfig(),
              repository: String, tag: String?, architecture: String = "amd64") throws -> Digest {
        let image = try FixtureImage(layers: layers, config: config, architecture: architecture)
        let reference = RegistryReference(host: host, repository: repository, tag: tag,
                                          digest: tag == nil ? image.manifestDigest.description : nil)
        return try clients.pusher(for: host).push(image.toWrite, to: reference).digest
    }

    /// Pushes an index naming the given manifests (pushed earlier by digest) as `repository:tag`.
    func pushIndex(_ manifests: [(digest: Digest, size: Int64, platform: Platform)], repository: String, tag: String) throws {
        let index = ImageIndex(manifests: manifests.map {
            Descriptor(mediaType: FairOCI.MediaType.imageManifest, digest: $0.digest, size: $0.size, platform: $0.platform)
        })
        try clients.client(for: host).putManifest(repository, reference: tag, bytes: try CanonicalJSON.encode(index),
                                                  mediaType: FairOCI.MediaType.imageIndex)
    }
}

/// An image's manifest, config and layers, ready to push.
struct FixtureImage {
    let manifestBytes: [UInt8]
    let manifestDigest: Digest
    let toWrite: ImageToWrite

    init(layers: [FixtureLayer], config: ImageConfig.ExecutionConfig, architecture: String) throws {
        let imageConfig = ImageConfig(created: "1970-01-01T00:00:00Z", architecture: architecture, os: "linux", config: config,
                                      rootfs: .init(diffIDs: layers.map(\.diffID)), history: nil)
        let configBytes = try CanonicalJSON.encode(imageConfig)
        let configDescriptor = Descriptor(mediaType: FairOCI.MediaType.imageConfig, digest: Digest.sha256(of: configBytes),
                                          size: Int64(configBytes.count))
        let manifest = ImageManifest(config: configDescriptor, layers: layers.map {
            Descriptor(mediaType: $0.mediaType, digest: $0.digest, size: $0.size)
        })
        manifestBytes = try CanonicalJSON.encode(manifest)
        manifestDigest = Digest.sha256(of: manifestBytes)
        var blobs = [
            BlobToWrite(digest: manifestDigest, size: Int64(manifestBytes.count), content: .bytes(manifestBytes), verify: false),
            BlobToWrite(digest: configDescriptor.digest, size: configDescriptor.size, content: .bytes(configBytes), verify: false),
        ]
        for layer in layers {
            blobs.append(BlobToWrite(digest: layer.digest, size: layer.size, content: .file(path: layer.path), verify: true))
        }
        toWrite = ImageToWrite(
            manifest: Descriptor(mediaType: FairOCI.MediaType.imageManifest, digest: manifestDigest, size: Int64(manifestBytes.count)),
            blobs: blobs)
    }
}

/// A value set by one thread and read by another.
final class LockedValue<T>: @unchecked Sendable {
    private var value: T?
    private let lock = NSLock()

    func set(_ newValue: T) {
        lock.lock()
        value = newValue
        lock.unlock()
    }

    func get() -> T? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func update(_ change: (inout T?) -> Void) {
        lock.lock()
        change(&value)
        lock.unlock()
    }
}
