import FairArchive
import FairOCI
import FairRegistry
import FairRegistryServer
import Foundation
import XCTest

/// The registry driven by real clients: fair's own (push, pull, mount) and skopeo.
final class RegistryClientTests: XCTestCase {
    var root = ""
    var work = ""
    var server: TestServer!
    let requests = SeenRequests()

    override func setUp() async throws {
        root = try makeTemporaryDirectory("clients")
        work = try makeTemporaryDirectory("work")
        let requests = self.requests
        server = try await TestServer.start(root: root) { method, path, _ in
            requests.append("\(method) \(path)")
            return true
        }
    }

    override func tearDown() async throws {
        await server?.stop()
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: work)
    }

    private func clients(_ label: String) -> RegistryClients {
        RegistryClients(store: BlobStore(directory: "\(work)/store-\(label)"),
                        dockerConfig: DockerConfig(path: "\(work)/no-docker-config.json"))
    }

    /// What `fair push` sends for an image of a layout: every blob from its byte range in the layout.
    private func imageToPush(_ layout: String, tag: String) throws -> ImageToWrite {
        let reader = try OCILayoutReader(directory: layout)
        let image = try reader.resolveImage(tag: tag)
        let manifestBytes = try reader.readSmallBlob(image.manifestDigest)
        var blobs = [BlobToWrite(digest: image.manifestDigest, size: Int64(manifestBytes.count), content: .bytes(manifestBytes), verify: false)]
        for descriptor in [image.manifest.config] + image.manifest.layers {
            let range = try XCTUnwrap(reader.fileRange(of: descriptor.digest))
            blobs.append(BlobToWrite(digest: descriptor.digest, size: descriptor.size, content: .fileRange(range), verify: true))
        }
        return ImageToWrite(manifest: Descriptor(mediaType: image.manifest.mediaType ?? FairOCI.MediaType.imageManifest,
                                                 digest: image.manifestDigest, size: Int64(manifestBytes.count)), blobs: blobs)
    }

    func testFairPushWarmPushMountAndPull() async throws {
        // A small layer and one over the monolithic limit (32 MiB), which goes up in PATCH chunks
        // of 64 MiB: 80 MiB makes two chunks and a closing PUT.
        let small = randomBytes(4096)
        let largePath = work + "/large.bin"
        let largeSize = 80 << 20
        let largeDigest = try writeRandomFile(largePath, size: largeSize)
        let layout = work + "/layout"
        let image = try TestImage.write(to: layout, tag: "v1", layers: [
            (.bytes(small), Digest.sha256(of: small), Int64(small.count), nil),
            (.file(path: largePath), largeDigest, Int64(largeSize), nil),
        ])
        let reference = try RegistryReference(parsing: "\(server.host)/team/app:v1")
        let push = clients("push")
        let toPush = try imageToPush(layout, tag: "v1")

        let started = Date()
        let report = try await offThread { try push.pusher(for: reference.host).push(toPush, to: reference) }
        print("fair push of \(largeSize >> 20) MiB + small blobs: \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(report.digest, image.manifestDigest)
        XCTAssertEqual(Set(report.blobs.map(\.action)), ["uploaded"])
        XCTAssertEqual(report.blobs.count, 3)
        XCTAssertGreaterThanOrEqual(report.bytesUploaded, Int64(largeSize))
        XCTAssertEqual(requests.all.filter { $0.hasPrefix("PATCH /v2/team/app/blobs/uploads/") }.count, 2)

        // Warm: everything is there already, nothing is sent.
        let warm = try await offThread { try push.pusher(for: reference.host).push(toPush, to: reference) }
        XCTAssertEqual(Set(warm.blobs.map(\.action)), ["exists"])
        XCTAssertEqual(warm.bytesUploaded, 0)

        // Mount into another repository of the same registry: blobs known to live in team/app.
        var mounted = toPush
        mounted.blobs = toPush.blobs.map { blob in
            guard blob.digest != toPush.manifest.digest else { return blob }
            var remote = blob
            remote.content = .remote(RemoteBlob(host: reference.host, repository: "team/app", fetch: { _ in
                XCTFail("a mounted blob must not be downloaded")
            }))
            return remote
        }
        let otherReference = try RegistryReference(parsing: "\(server.host)/team/other:v1")
        let mount = try await offThread { try push.pusher(for: otherReference.host).push(mounted, to: otherReference) }
        XCTAssertEqual(Set(mount.blobs.map(\.action)), ["mounted"])
        XCTAssertEqual(mount.bytesUploaded, 0)

        // Pull back from both repositories into empty stores: every byte verified by digest.
        for (label, pulledReference) in [("pull-app", reference), ("pull-other", otherReference)] {
            let pull = clients(label)
            let puller = try pull.puller(for: pulledReference.host)
            let pulled = try await offThread { try puller.resolve(pulledReference, platform: .linuxAMD64) }
            XCTAssertEqual(pulled.manifestDigest, image.manifestDigest)
            XCTAssertEqual(pulled.manifestMediaType, FairOCI.MediaType.imageManifest)
            let layers = try await offThread { try puller.fetchLayers(pulled) }
            XCTAssertEqual(layers.count, 2)
            let largeCopy = try XCTUnwrap(layers[largeDigest])
            XCTAssertEqual(try fileDigest( largeCopy).hex, largeDigest.encoded)
            XCTAssertEqual(try fileDigest( largeCopy).size, Int64(largeSize))
        }

        let catalog = try await server.send("GET", "/v2/_catalog")
        XCTAssertEqual(catalog.text, #"{"repositories":["team/app","team/other"]}"#)
        // Each blob is stored once, whichever repositories link it.
        let stored = try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256")
        XCTAssertEqual(stored.count, 4)
    }

    func testSkopeoCopyInAndOut() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo") else { throw XCTSkip("skopeo is not installed") }
        // A real gzip-compressed tar layer, so skopeo copies it as it is.
        let content = work + "/rootfs"
        try FileManager.default.createDirectory(atPath: content + "/etc", withIntermediateDirectories: true)
        try Data("hello from fair\n".utf8).write(to: URL(fileURLWithPath: content + "/etc/motd"))
        try await runCommand(["sh", "-c", "tar -C '\(content)' --sort=name --mtime=@0 --owner=0 --group=0 -cf '\(work)/layer.tar' . && gzip -n -c '\(work)/layer.tar' > '\(work)/layer.tar.gz'"])
        let (diffHex, _) = try fileDigest( work + "/layer.tar")
        let (layerHex, layerSize) = try fileDigest( work + "/layer.tar.gz")
        let layout = work + "/skopeo-layout"
        let image = try TestImage.write(
            to: layout, tag: "v1",
            layers: [(.file(path: work + "/layer.tar.gz"), Digest.sha256(hex: layerHex), layerSize, Digest.sha256(hex: diffHex))],
            layerMediaType: FairOCI.MediaType.layerTarGzip)

        let destination = "docker://\(server.host)/team/app:v1"
        try await runCommand(["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", "oci:\(layout):v1", destination])
        let inspected = try await runCommand(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", destination])
        XCTAssertEqual(inspected.output.trimmingCharacters(in: .whitespacesAndNewlines), image.manifestDigest.description)
        let raw = try await runCommand(["skopeo", "inspect", "--tls-verify=false", "--raw", destination])
        XCTAssertEqual(Array(raw.output.utf8), image.manifestBytes)

        // A second copy finds everything present.
        try await runCommand(["skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", "oci:\(layout):v1", "docker://\(server.host)/team/app:v2"])

        let back = work + "/back"
        try await runCommand(["skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", destination, "oci:\(back):v1"])
        let backImage = try OCILayoutReader(directory: back).resolveImage(tag: "v1")
        XCTAssertEqual(backImage.manifestDigest, image.manifestDigest)
        let backLayer = try OCILayoutReader(directory: back).blobPath(Digest.sha256(hex: layerHex))
        XCTAssertEqual(try fileDigest( backLayer).hex, layerHex)

        let tags = try await runCommand(["skopeo", "list-tags", "--tls-verify=false", "docker://\(server.host)/team/app"])
        XCTAssertTrue(tags.output.contains("\"v1\"") && tags.output.contains("\"v2\""), tags.output)
    }

    /// Timing of a 256 MiB blob through fair's client (run with FAIR_REGISTRY_BENCH=1), and through
    /// the `fair` binary when FAIR_BINARY names one.
    func testLargeBlobPushTiming() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["FAIR_REGISTRY_BENCH"] != nil else { throw XCTSkip("set FAIR_REGISTRY_BENCH=1 to measure") }
        let size = 256 << 20
        let path = work + "/big.bin"
        let digest = try writeRandomFile(path, size: size)
        let layout = work + "/big-layout"
        _ = try TestImage.write(to: layout, tag: "v1", layers: [(.file(path: path), digest, Int64(size), nil)])
        let reference = try RegistryReference(parsing: "\(server.host)/bench/client:v1")
        let push = clients("bench")
        let image = try imageToPush(layout, tag: "v1")
        var started = Date()
        _ = try await offThread { try push.pusher(for: reference.host).push(image, to: reference) }
        let clientSeconds = Date().timeIntervalSince(started)
        print("256 MiB push through RegistryClient: \(String(format: "%.2f", clientSeconds)) s (\(String(format: "%.0f", 256 / clientSeconds)) MiB/s)")

        let pull = clients("bench-pull")
        let puller = try pull.puller(for: reference.host)
        started = Date()
        let pulled = try await offThread { try puller.resolve(reference, platform: .linuxAMD64) }
        _ = try await offThread { try puller.fetchLayers(pulled) }
        let pullSeconds = Date().timeIntervalSince(started)
        print("256 MiB pull through RegistryClient: \(String(format: "%.2f", pullSeconds)) s (\(String(format: "%.0f", 256 / pullSeconds)) MiB/s)")

        if let binary = environment["FAIR_BINARY"] {
            started = Date()
            try await runCommand([binary, "push", "-q", layout, "\(server.host)/bench/binary:v1"])
            let binarySeconds = Date().timeIntervalSince(started)
            print("256 MiB fair push: \(String(format: "%.2f", binarySeconds)) s (\(String(format: "%.0f", 256 / binarySeconds)) MiB/s)")
        }
    }
}
