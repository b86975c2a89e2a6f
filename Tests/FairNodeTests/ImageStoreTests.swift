import FairArchive
import FairKube
@testable import FairNode
import FairOCI
import FairRegistry
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Pulls from the real embedded registry into a real image store on disk.
final class ImageStoreTests: XCTestCase {
    nonisolated(unsafe) private static var registry: FixtureRegistry?
    nonisolated(unsafe) private static var startError: Error?

    private var sandbox = ""
    private var registry: FixtureRegistry!

    override class func setUp() {
        super.setUp()
        do { registry = try FixtureRegistry.start() } catch { startError = error }
    }

    override class func tearDown() {
        registry?.stop()
        registry = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let error = Self.startError { throw error }
        registry = try XCTUnwrap(Self.registry)
        sandbox = NSTemporaryDirectory() + "fair-images-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: sandbox + "/layers", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: sandbox)
    }

    private func makeStore(_ name: String = "node") throws -> ImageStore {
        try ImageStore(dataDirectory: "\(sandbox)/\(name)")
    }

    private func layerPath() -> String { "\(sandbox)/layers/\(UUID().uuidString).tar" }

    private func uniqueRepository() -> String { "test/img-\(UUID().uuidString.prefix(8).lowercased())" }

    // MARK: - Pull and unpack

    func testPrepareUnpacksLayersInOrderWithContentsModesMountPointsAndConfig() throws {
        let base = try FixtureLayers.busybox(to: layerPath())
        let top = try FixtureLayers.write(to: layerPath()) { tar in
            try tar.writeHeader(TarEntry(path: "etc/", kind: .directory, mode: 0o755, mtime: 1))
            try tar.writeFile(TarEntry(path: "etc/motd", kind: .file(size: 0), mode: 0o600, mtime: 2_000), contents: Array("top motd\n".utf8))
            try tar.writeFile(TarEntry(path: "app/.wh.old.txt", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: [])
            try tar.writeFile(TarEntry(path: "app/run.sh", kind: .file(size: 0), mode: 0o755, mtime: 1), contents: Array("#!/bin/sh\n".utf8))
        }
        var config = ImageConfig.ExecutionConfig()
        config.Cmd = ["/app/run.sh"]
        config.Env = ["PATH=/bin", "MODE=test"]
        config.WorkingDir = "/app"
        let repository = uniqueRepository()
        let digest = try registry.push([base, top], config: config, repository: repository, tag: "v1")
        let reference = "\(registry.host)/\(repository):v1"

        let store = try makeStore()
        let image = try store.prepare(image: reference, pullPolicy: "IfNotPresent")

        XCTAssertEqual(image.reference, reference)
        XCTAssertEqual(image.digest, digest.description)
        XCTAssertEqual(image.rootfs, "\(sandbox)/node/images/\(digest)/rootfs")
        XCTAssertEqual(image.config["Cmd"], ["/app/run.sh"])
        XCTAssertEqual(image.config["Env"], ["PATH=/bin", "MODE=test"])
        XCTAssertEqual(image.config["WorkingDir"], "/app")

        let rootfs = image.rootfs
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/etc/motd", encoding: .utf8), "top motd\n", "the upper layer wins")
        XCTAssertEqual(try mode(rootfs + "/etc/motd"), 0o600)
        XCTAssertEqual(try mode(rootfs + "/app/run.sh"), 0o755)
        XCTAssertEqual(try mode(rootfs + "/bin/busybox"), 0o755)
        XCTAssertEqual(try sha256Hex(ofFileAt: rootfs + "/bin/busybox").hex, try sha256Hex(ofFileAt: "/bin/busybox").hex)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/bin/sh"), "busybox")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/app/old.txt"), "the whiteout removed it")

        for directory in ["proc", "dev", "sys", "tmp"] {
            var isDirectory: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(rootfs)/\(directory)", isDirectory: &isDirectory) && isDirectory.boolValue,
                          "mount point /\(directory)")
        }
        XCTAssertEqual(try mode(rootfs + "/tmp"), 0o1777)
        for file in ["etc/hosts", "etc/resolv.conf", "etc/hostname"] {
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: "\(rootfs)/\(file)")[.type] as? FileAttributeType,
                           .typeRegular, "mount point /\(file)")
        }
        XCTAssertEqual(try stagingLeftovers(store), [])
    }

    func testSecondPrepareIsACacheHitAndAlwaysReResolvesTheTag() throws {
        let repository = uniqueRepository()
        let reference = "\(registry.host)/\(repository):v1"
        let first = try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let store = try makeStore()
        let image = try store.prepare(image: reference, pullPolicy: "IfNotPresent")
        XCTAssertEqual(image.digest, first.description)
        // Marks this unpack: an unpack of the same digest again would not have it.
        try Data("mark".utf8).write(to: URL(fileURLWithPath: image.rootfs + "/unpacked-once"))

        let again = try store.prepare(image: reference, pullPolicy: "IfNotPresent")
        XCTAssertEqual(again.rootfs, image.rootfs)
        XCTAssertTrue(FileManager.default.fileExists(atPath: again.rootfs + "/unpacked-once"), "not unpacked a second time")

        let unchanged = try store.prepare(image: reference, pullPolicy: "Always")
        XCTAssertEqual(unchanged.digest, first.description)
        XCTAssertTrue(FileManager.default.fileExists(atPath: unchanged.rootfs + "/unpacked-once"), "same digest: no new unpack")

        // The tag moves to another image.
        let newer = try FixtureLayers.write(to: layerPath()) { tar in
            try tar.writeFile(TarEntry(path: "version", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: Array("2".utf8))
        }
        let second = try registry.push([newer], repository: repository, tag: "v1")
        XCTAssertNotEqual(second, first)

        let cached = try store.prepare(image: reference, pullPolicy: "IfNotPresent")
        XCTAssertEqual(cached.digest, first.description, "IfNotPresent keeps what the node has")
        let never = try store.prepare(image: reference, pullPolicy: "Never")
        XCTAssertEqual(never.digest, first.description)

        let pulled = try store.prepare(image: reference, pullPolicy: "Always")
        XCTAssertEqual(pulled.digest, second.description)
        XCTAssertEqual(try String(contentsOfFile: pulled.rootfs + "/version", encoding: .utf8), "2")
        XCTAssertEqual(try store.prepare(image: reference, pullPolicy: "IfNotPresent").digest, second.description,
                       "the record follows the newest pull")
        XCTAssertTrue(FileManager.default.fileExists(atPath: image.rootfs), "the old image stays for containers using it")
    }

    func testDigestReferencesAndTheImageIDAreTheManifestDigest() throws {
        let repository = uniqueRepository()
        let digest = try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let store = try makeStore()
        let reference = "\(registry.host)/\(repository)@\(digest)"
        let image = try store.prepare(image: reference, pullPolicy: "Always")
        XCTAssertEqual(image.digest, digest.description)
        XCTAssertEqual(image.reference, reference)
        XCTAssertEqual(try store.prepare(image: reference, pullPolicy: "Never").rootfs, image.rootfs)
    }

    func testAnIndexResolvesToLinuxAMD64() throws {
        let repository = uniqueRepository()
        let armLayer = try FixtureLayers.write(to: layerPath()) { tar in
            try tar.writeFile(TarEntry(path: "arch", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: Array("arm64".utf8))
        }
        let amdLayer = try FixtureLayers.write(to: layerPath()) { tar in
            try tar.writeFile(TarEntry(path: "arch", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: Array("amd64".utf8))
        }
        let arm = try FixtureImage(layers: [armLayer], config: .init(), architecture: "arm64")
        let amd = try FixtureImage(layers: [amdLayer], config: .init(), architecture: "amd64")
        try registry.push([armLayer], repository: repository, tag: nil, architecture: "arm64")
        try registry.push([amdLayer], repository: repository, tag: nil, architecture: "amd64")
        try registry.pushIndex([
            (arm.manifestDigest, Int64(arm.manifestBytes.count), Platform(architecture: "arm64", os: "linux")),
            (amd.manifestDigest, Int64(amd.manifestBytes.count), Platform(architecture: "amd64", os: "linux")),
        ], repository: repository, tag: "multi")

        let image = try makeStore().prepare(image: "\(registry.host)/\(repository):multi", pullPolicy: "Always")
        XCTAssertEqual(image.digest, amd.manifestDigest.description)
        XCTAssertEqual(try String(contentsOfFile: image.rootfs + "/arch", encoding: .utf8), "amd64")
    }

    func testConcurrentPreparesOfOneImageShareOneUnpack() throws {
        let repository = uniqueRepository()
        try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let store = try makeStore()
        let reference = "\(registry.host)/\(repository):v1"
        let results = LockedValue<[String]>()
        results.set([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let outcome: String
            do {
                outcome = try store.prepare(image: reference, pullPolicy: "IfNotPresent").rootfs
            } catch {
                outcome = "error: \(error)"
            }
            results.update { $0?.append(outcome) }
        }
        let rootfs = try XCTUnwrap(results.get())
        XCTAssertEqual(rootfs.count, 6)
        XCTAssertEqual(Set(rootfs).count, 1, "\(rootfs)")
        XCTAssertFalse(rootfs[0].hasPrefix("error"), rootfs[0])
        XCTAssertEqual(try imageDirectories(store).count, 1)
        XCTAssertEqual(try stagingLeftovers(store), [])
    }

    // MARK: - Failures

    func testMissingTagIsManifestUnknown() throws {
        let reference = "\(registry.host)/\(uniqueRepository()):nope"
        XCTAssertThrowsError(try makeStore().prepare(image: reference, pullPolicy: "IfNotPresent")) { error in
            let imageError = error as? ImageError
            XCTAssertEqual(imageError?.reason, .pull)
            XCTAssertEqual("\(error)", "ErrImagePull: \(reference): manifest unknown")
        }
    }

    func testNeverFailsWhenTheImageIsAbsent() throws {
        let repository = uniqueRepository()
        try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let reference = "\(registry.host)/\(repository):v1"
        let store = try makeStore()
        XCTAssertThrowsError(try store.prepare(image: reference, pullPolicy: "Never")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, .neverPull)
            XCTAssertTrue("\(error)".hasPrefix("ErrImageNeverPull: \(reference): "), "\(error)")
        }
        XCTAssertEqual(try imageDirectories(store), [], "Never pulled nothing")
    }

    /// An image a pod's pull secret pulled is that pod's: a pod without the same credentials
    /// goes back to the registry and gets the registry's answer (here a refusal of its wrong
    /// password, or the image again when it asks anonymously of a registry that serves anyone,
    /// after which the copy is the node's), and with Never it is refused rather than handed the copy.
    func testAnImagePulledWithAPodsCredentialsIsNotHandedToOtherPods() throws {
        let repository = uniqueRepository()
        try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let reference = "\(registry.host)/\(repository):v1"
        let store = try makeStore()
        let first = try store.prepare(image: reference, pullPolicy: "IfNotPresent")
        // As if a pull secret had pulled it (this registry serves anyone, so none is needed).
        let owner = Credentials(username: "u", password: "p")
        let key = try RegistryReference(parsing: reference).description
        try store.records.record(key, digest: try Digest(parsing: first.digest),
                                 pulledWith: ImageStore.fingerprint(owner, host: registry.host))
        func secret(_ password: String) -> PullCredentials {
            PullCredentials(dockerConfigs: [Array(#"{"auths":{"\#(registry.host)":{"username":"u","password":"\#(password)"}}}"#.utf8)])
        }
        // The same credentials use the copy, even with Never.
        XCTAssertEqual(try store.prepare(image: reference, pullPolicy: "Never", credentials: secret("p")).digest, first.digest)
        for credentials in [PullCredentials.none, secret("other")] {
            XCTAssertThrowsError(try store.prepare(image: reference, pullPolicy: "Never", credentials: credentials)) { error in
                XCTAssertEqual((error as? ImageError)?.reason, .neverPull)
                XCTAssertTrue("\(error)".contains("pulled with credentials this pod does not have"), "\(error)")
            }
        }
        // Other credentials are put to the registry, which refuses them.
        XCTAssertThrowsError(try store.prepare(image: reference, pullPolicy: "IfNotPresent", credentials: secret("other"))) { error in
            XCTAssertTrue("\(error)".contains("unauthorized"), "\(error)")
        }
        // Anonymously it is pulled again; the registry allowing that makes the copy the node's.
        XCTAssertEqual(try store.prepare(image: reference, pullPolicy: "IfNotPresent").digest, first.digest)
        XCTAssertEqual(try store.prepare(image: reference, pullPolicy: "Never", credentials: secret("other")).digest, first.digest)
    }

    func testUnreachableRegistryAndBadInputsAreNamed() throws {
        let store = try makeStore()
        XCTAssertThrowsError(try store.prepare(image: "127.0.0.1:1/none:v1", pullPolicy: "Always")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, .pull)
            XCTAssertTrue("\(error)".hasPrefix("ErrImagePull: 127.0.0.1:1/none:v1: cannot reach registry 127.0.0.1:1"), "\(error)")
        }
        XCTAssertThrowsError(try store.prepare(image: "Bad Name!", pullPolicy: "Always")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, .invalidName)
            XCTAssertTrue("\(error)".hasPrefix("InvalidImageName: Bad Name!: "), "\(error)")
        }
        XCTAssertThrowsError(try store.prepare(image: "\(registry.host)/x:v1", pullPolicy: "Sometimes")) { error in
            XCTAssertEqual((error as? ImageError)?.reason, .invalidPullPolicy)
            XCTAssertTrue("\(error)".contains("\"Sometimes\""), "\(error)")
        }
    }

    func testAnAbandonedUnpackIsRemovedAndNeverMistakenForAnImage() throws {
        let repository = uniqueRepository()
        let digest = try registry.push([try FixtureLayers.busybox(to: layerPath())], repository: repository, tag: "v1")
        let leftover = "\(sandbox)/node/images/\(ImageStore.stagingPrefix)\(digest.encoded.prefix(16))-crashed/rootfs"
        try FileManager.default.createDirectory(atPath: leftover + "/bin", withIntermediateDirectories: true)
        let store = try makeStore()
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover), "a crashed unpack is cleared at start")
        XCTAssertNil(store.unpacked(digest, reference: "x"))
        let image = try store.prepare(image: "\(registry.host)/\(repository):v1", pullPolicy: "IfNotPresent")
        XCTAssertTrue(FileManager.default.fileExists(atPath: image.rootfs + "/bin/busybox"))
    }

    // MARK: - Helpers

    /// Permission bits with setuid, setgid and sticky, of the file itself (links not followed).
    private func mode(_ path: String) throws -> Int {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        return Int(status.st_mode & 0o7777)
    }

    private func imageDirectories(_ store: ImageStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.dataDirectory + "/images").filter { $0.hasPrefix("sha256:") }
    }

    private func stagingLeftovers(_ store: ImageStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.dataDirectory + "/images")
            .filter { $0.hasPrefix(ImageStore.stagingPrefix) }
    }
}
