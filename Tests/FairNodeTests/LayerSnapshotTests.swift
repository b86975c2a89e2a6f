import FairArchive
@testable import FairNode
import FairOCI
import Foundation
import XCTest

/// Images assembled from layer snapshots (overlay, as root): layers shared between images by
/// inode, whiteouts honoured, hostile layers still refused, garbage collection that spares what
/// is in use, and a node that finds its snapshots again after a restart.
final class LayerSnapshotTests: XCTestCase {
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
        guard geteuid() == 0 else { throw XCTSkip("overlay mounts need root") }
        if let error = Self.startError { throw error }
        registry = try XCTUnwrap(Self.registry)
        sandbox = NSTemporaryDirectory() + "fair-snapshots-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: sandbox + "/layers", withIntermediateDirectories: true)
        guard OverlayMount.works(in: sandbox) else { throw XCTSkip("overlay mounts do not work in \(sandbox)") }
    }

    override func tearDownWithError() throws {
        guard !sandbox.isEmpty else { return }
        // Every mount under the sandbox goes first, deepest first, or its files cannot.
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let points = mounts.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(sandbox) ? String(fields[4]) : nil
        }
        for point in points.sorted(by: { $0.count > $1.count }) { OverlayMount.unmount(point) }
        try? FileManager.default.removeItem(atPath: sandbox)
    }

    private func layer(_ name: String, _ entries: [RawTarEntry]) throws -> FixtureLayer {
        try FixtureLayers.raw(to: "\(sandbox)/layers/\(name).tar", entries)
    }

    private func push(_ layers: [FixtureLayer]) throws -> String {
        let repository = "snapshots/img-\(UUID().uuidString.prefix(8).lowercased())"
        try registry.push(layers, repository: repository, tag: "v1")
        return "\(registry.host)/\(repository):v1"
    }

    private func store() throws -> ImageStore {
        try ImageStore(dataDirectory: sandbox + "/node", layout: .snapshots)
    }

    private func inode(_ path: String) throws -> UInt64 {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw ArchiveError.io(path: path, operation: "lstat", errno: errno) }
        return UInt64(status.st_ino)
    }

    private func ids(_ store: ImageStore, _ image: PreparedImage) throws -> [String] {
        try store.snapshotIDs((image.rootfs as NSString).deletingLastPathComponent)
    }

    func testImagesSharingABaseShareItsSnapshotAndOnlyTheirOwnLayerIsUnpacked() throws {
        let base = try layer("base", [.directory("etc/"), .file("etc/os-release", "fair test base\n"), .file("bin-tool", "tool v1\n")])
        let one = try layer("one", [.directory("app/"), .file("app/train.py", "print(1)\n")])
        let two = try layer("two", [.directory("app/"), .file("app/train.py", "print(2)\n")])
        let store = try store()
        let first = try store.prepare(image: try push([base, one]), pullPolicy: "IfNotPresent")
        let second = try store.prepare(image: try push([base, two]), pullPolicy: "IfNotPresent")
        XCTAssertNotEqual(first.rootfs, second.rootfs)
        XCTAssertEqual(try String(contentsOfFile: first.rootfs + "/app/train.py", encoding: .utf8), "print(1)\n")
        XCTAssertEqual(try String(contentsOfFile: second.rootfs + "/app/train.py", encoding: .utf8), "print(2)\n")

        let (firstIDs, secondIDs) = (try ids(store, first), try ids(store, second))
        XCTAssertEqual(firstIDs.count, 2)
        XCTAssertEqual(firstIDs[0], secondIDs[0], "one snapshot of the base")
        XCTAssertNotEqual(firstIDs[1], secondIDs[1])
        let shared = store.snapshots!.filesystem(of: firstIDs[0]) + "/etc/os-release"
        XCTAssertEqual(try inode(first.rootfs + "/etc/os-release"), try inode(shared), "the file is the snapshot's, not a copy")
        XCTAssertEqual(try inode(second.rootfs + "/etc/os-release"), try inode(shared))
        XCTAssertEqual(store.snapshots!.all().count, 3, "base, one, two")
        // What the runtime writes (mount points) lands in the image's own top directory, never
        // in a snapshot another image shares; the runtime's mount points are there.
        XCTAssertTrue(FileManager.default.createFile(atPath: first.rootfs + "/etc/made-by-runc", contents: Data()))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.snapshots!.filesystem(of: firstIDs[0]) + "/etc/made-by-runc"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: second.rootfs + "/etc/made-by-runc"))
        for point in ["proc", "dev", "sys", "tmp", "etc/hosts", "etc/resolv.conf"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(first.rootfs)/\(point)"), point)
        }
    }

    func testWhiteoutsAndOpaqueDirectoriesHideWhatLowerLayersLeft() throws {
        let base = try layer("base", [.directory("data/"), .file("data/a", "a"), .file("data/b", "b"),
                                      .directory("cache/"), .file("cache/old", "old"), .file("gone", "x")])
        let top = try layer("top", [RawTarEntry(name: ".wh.gone", type: UInt8(ascii: "0")),
                                    RawTarEntry(name: "data/.wh.a", type: UInt8(ascii: "0")),
                                    .directory("cache/"), RawTarEntry(name: "cache/.wh..wh..opq", type: UInt8(ascii: "0")),
                                    .file("cache/new", "new")])
        let image = try store().prepare(image: try push([base, top]), pullPolicy: "IfNotPresent")
        XCTAssertFalse(FileManager.default.fileExists(atPath: image.rootfs + "/gone"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: image.rootfs + "/data").sorted(), ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: image.rootfs + "/cache").sorted(), ["new"])
    }

    func testAHostileLayerIsStillRefusedAndLeavesNoSnapshot() throws {
        let base = try layer("base", [.file("ok", "ok")])
        let climb = try layer("climb", [.file(String(repeating: "../", count: 12) + "tmp/fair-escaped-\(UUID().uuidString.prefix(6))", "x")])
        let store = try store()
        let reference = try push([base, climb])
        XCTAssertThrowsError(try store.prepare(image: reference, pullPolicy: "IfNotPresent")) { error in
            XCTAssertTrue("\(error)".contains("layer 2 of 2"), "\(error)")
            XCTAssertTrue("\(error)".contains("climbs above the root filesystem"), "\(error)")
        }
        XCTAssertEqual(store.snapshots!.all().count, 1, "the base only: no half-made snapshot")
        let left = try FileManager.default.contentsOfDirectory(atPath: store.snapshots!.directory).filter { $0.hasPrefix(".") }
        XCTAssertEqual(left, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.dataDirectory + "/images").filter { $0 != "references" }, [])
    }

    func testGarbageCollectionRemovesOnlyWhatNoContainerUses() throws {
        let base = try layer("base", [.file("base", "base")])
        let store = try store()
        let kept = try store.prepare(image: try push([base, try layer("kept", [.file("k", "k")])]), pullPolicy: "IfNotPresent")
        let dropped = try store.prepare(image: try push([base, try layer("dropped", [.file("d", "d")])]), pullPolicy: "IfNotPresent")
        let keptDigest = kept.digest, droppedDigest = dropped.digest
        let keptIDs = try ids(store, kept)

        // Below the threshold nothing goes.
        var removed = store.collectGarbage(inUse: [keptDigest], usedPercent: { 50 })
        XCTAssertEqual(removed.images, [])
        XCTAssertEqual(removed.snapshots, [])
        // Above it, the unused image goes and with it its own snapshot; the base stays (in use).
        removed = store.collectGarbage(inUse: [keptDigest], usedPercent: { 90 })
        XCTAssertEqual(removed.images, [droppedDigest])
        XCTAssertEqual(removed.snapshots.count, 1)
        XCTAssertEqual(Set(store.snapshots!.all()), Set(keptIDs))
        XCTAssertEqual(try String(contentsOfFile: kept.rootfs + "/base", encoding: .utf8), "base", "the image in use still reads")
        XCTAssertFalse(FileManager.default.fileExists(atPath: (dropped.rootfs as NSString).deletingLastPathComponent))
        // Recently used images stay whatever the disk says (kubelet's minimum age), and so do
        // snapshots made as recently, which may belong to an image still being assembled.
        let loose = try layer("loose", [.file("l", "l")])
        let orphan = try store.snapshots!.prepare([loose.digest], paths: [loose.digest: loose.path], budget: nil) { _, error in error }
        removed = store.collectGarbage(inUse: [], minimumAge: 3600, usedPercent: { 99 })
        XCTAssertEqual(removed.images, [])
        XCTAssertEqual(removed.snapshots, [])
        XCTAssertTrue(store.snapshots!.all().contains(orphan[0]))
        removed = store.collectGarbage(inUse: [keptDigest], usedPercent: { 50 })
        XCTAssertEqual(removed.snapshots, orphan, "once old enough, a snapshot no image names goes")
    }

    func testARestartedNodeMountsItsImagesAgainWithoutUnpacking() throws {
        let base = try layer("base", [.file("base", "base")])
        let reference = try push([base, try layer("app", [.file("app", "app")])])
        let image = try store().prepare(image: reference, pullPolicy: "IfNotPresent")
        let snapshotInode = try inode(image.rootfs + "/base")
        // As after a reboot: the mount is gone, the directories are not.
        OverlayMount.unmount(image.rootfs)
        XCTAssertFalse(OverlayMount.isMounted(image.rootfs))
        let again = try store().prepare(image: reference, pullPolicy: "IfNotPresent")
        XCTAssertEqual(again.rootfs, image.rootfs)
        XCTAssertTrue(OverlayMount.isMounted(again.rootfs))
        XCTAssertEqual(try inode(again.rootfs + "/base"), snapshotInode, "the same snapshot, not a new unpack")
        XCTAssertEqual(try String(contentsOfFile: again.rootfs + "/app", encoding: .utf8), "app")
    }
}
