import FairArchive
@testable import FairNode
import FairOCI
import Foundation
import XCTest

/// Layers built to break out of the root filesystem, pulled the way a node pulls any image.
/// Whatever they try, nothing appears outside the image's root filesystem, and a refused image
/// leaves no image directory (nor a half-unpacked one) behind.
final class ImageHostileLayerTests: XCTestCase {
    nonisolated(unsafe) private static var registry: FixtureRegistry?
    nonisolated(unsafe) private static var startError: Error?

    private var sandbox = ""
    private var registry: FixtureRegistry!
    /// A host directory the layers aim at, outside every data directory.
    private var target = ""

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
        sandbox = NSTemporaryDirectory() + "fair-hostile-\(UUID().uuidString.prefix(8))"
        target = NSTemporaryDirectory() + "fair-hostile-target-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: sandbox + "/layers", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: sandbox)
        try? FileManager.default.removeItem(atPath: target)
    }

    func testDotDotNamesAreRefused() throws {
        let climb = String(repeating: "../", count: 12) + String(target.dropFirst())
        let layer = try FixtureLayers.raw(to: sandbox + "/layers/climb.tar", [
            .file("ok.txt", "fine"),
            .file(climb, "escaped"),
        ])
        let (store, error) = try prepareFailing([layer])
        XCTAssertEqual(error.reason, .pull)
        XCTAssertTrue(error.description.contains("climbs above the root filesystem"), error.description)
        XCTAssertTrue(error.description.contains("layer 1 of 1"), error.description)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target), "\(target) was written")
        try assertNothingUnpacked(store)
    }

    func testDeviceNodesAreRefused() throws {
        let layer = try FixtureLayers.raw(to: sandbox + "/layers/device.tar", [
            .directory("dev/"),
            .characterDevice("dev/mem", major: 1, minor: 1),
        ])
        let (store, error) = try prepareFailing([layer])
        XCTAssertEqual(error.reason, .pull)
        XCTAssertTrue(error.description.contains("dev/mem"), error.description)
        XCTAssertTrue(error.description.contains("device nodes are not allowed"), error.description)
        try assertNothingUnpacked(store)
    }

    /// Links are not refused (images are full of absolute links), but they only ever lead
    /// somewhere inside the root: a write through `evil -> /host/dir` lands in the image's own
    /// `/host/dir`, and the host's stays empty.
    func testWritesThroughAbsoluteLinksAreRefused() throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let layer = try FixtureLayers.raw(to: sandbox + "/layers/links.tar", [
            .symlink("evil", to: target),
            .file("evil/pwned", "through an absolute link"),
        ])
        let (store, error) = try prepareFailing([layer])
        XCTAssertEqual(error.reason, .pull)
        XCTAssertTrue(error.description.contains("refusing archive entry evil/pwned: it is written through the symbolic link evil -> \(target)"),
                      error.description)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), [], "the host directory was written")
        try assertNothingUnpacked(store)
    }

    func testClimbingRelativeLinksStayInsideTheRoot() throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let layer = try FixtureLayers.raw(to: sandbox + "/layers/climbing-link.tar", [
            .symlink("up", to: String(repeating: "../", count: 12) + String(target.dropFirst())),
            .file("up/pwned-too", "through a climbing link"),
        ])
        let image = try ImageStore(dataDirectory: sandbox + "/node").prepare(image: try push([layer]), pullPolicy: "IfNotPresent")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), [], "the host directory was written")
        XCTAssertEqual(try String(contentsOfFile: image.rootfs + target + "/pwned-too", encoding: .utf8), "through a climbing link")
    }

    /// An image whose /etc is a link to the host's /etc gets no mount points created through it.
    func testMountPointsAreNeverCreatedThroughLinks() throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let layer = try FixtureLayers.raw(to: sandbox + "/layers/etc-link.tar", [
            .symlink("etc", to: target),
            .symlink("tmp", to: target),
        ])
        let image = try ImageStore(dataDirectory: sandbox + "/node").prepare(image: try push([layer]), pullPolicy: "IfNotPresent")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), [], "hosts/resolv.conf/hostname written on the host")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: image.rootfs + "/etc"), target)
    }

    /// A few hundred kilobytes of gzip that unpack to 64 MiB of zeros: refused before they are
    /// written, naming the limit, and nothing is left behind.
    func testAnImageLargerThanTheNodesLimitIsRefusedBeforeItFillsTheDisk() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let layer = try FixtureLayers.write(to: sandbox + "/layers/zeros.tar.gz") { tar in
            for index in 0..<64 {
                try tar.writeFile(TarEntry(path: "zeros-\(index)", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: zeros)
            }
        }
        XCTAssertLessThan(layer.size, 1 << 20, "the layer is small; what it unpacks to is not")
        let store = try ImageStore(dataDirectory: sandbox + "/node")
        store.maximumUnpackedBytes = 16 << 20
        let reference = try push([layer])
        XCTAssertThrowsError(try store.prepare(image: reference, pullPolicy: "IfNotPresent")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("ErrImagePull: \(reference): "), text)
            XCTAssertTrue(text.contains("unpacks to more than the node's limit per image (16777216 bytes)"), text)
        }
        try assertNothingUnpacked(store)
    }

    // MARK: - Helpers

    private func push(_ layers: [FixtureLayer]) throws -> String {
        let repository = "hostile/img-\(UUID().uuidString.prefix(8).lowercased())"
        try registry.push(layers, repository: repository, tag: "v1")
        return "\(registry.host)/\(repository):v1"
    }

    private func prepareFailing(_ layers: [FixtureLayer]) throws -> (ImageStore, ImageError) {
        let store = try ImageStore(dataDirectory: sandbox + "/node")
        let reference = try push(layers)
        do {
            let image = try store.prepare(image: reference, pullPolicy: "IfNotPresent")
            XCTFail("the image was accepted: \(image.rootfs)")
            throw XCTSkip("accepted")
        } catch let error as ImageError {
            XCTAssertTrue(error.description.hasPrefix("ErrImagePull: \(reference): "), error.description)
            return (store, error)
        }
    }

    private func assertNothingUnpacked(_ store: ImageStore, file: StaticString = #filePath, line: UInt = #line) throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: store.dataDirectory + "/images")
        XCTAssertEqual(entries.filter { $0 != "references" }, [], "an image or a staging directory was left", file: file, line: line)
    }
}
