import FairArchive
import FairOCI
import Foundation
import XCTest
@testable import FairBuild

final class LayerWriterTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "layer-writer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String, _ contents: String, mode: Int = 0o644) throws -> LayerEntry.Content {
        let path = "\(directory!)/src-\(name.replacingOccurrences(of: "/", with: "_"))"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return .file(sourcePath: path, size: Int64(contents.utf8.count))
    }

    private func readBack(_ layer: BuiltLayer) throws -> [TarEntry] {
        let reader = try TarReader(path: layer.path)
        var entries: [TarEntry] = []
        while let entry = try reader.next() { entries.append(entry) }
        return entries
    }

    private var writer: LayerWriter { LayerWriter(compression: .gzip, level: 1, workers: 2, mtime: 315_532_800) }

    func testSameEntriesInAnyOrderGiveTheSameBytes() throws {
        let entries = [
            LayerEntry(path: "app/b.py", content: try file("b", "print('b')\n"), mode: 0o644),
            LayerEntry(path: "app/a.py", content: try file("a", "print('a')\n"), mode: 0o644),
            LayerEntry(path: "app/lib/c.py", content: .bytes(Array("c = 1\n".utf8)), mode: 0o644),
        ]
        let first = try writer.write(entries, to: "\(directory!)/one.layer")
        let second = try writer.write(entries.reversed(), to: "\(directory!)/two.layer")
        XCTAssertEqual(first.digest, second.digest)
        XCTAssertEqual(first.diffID, second.diffID)
        XCTAssertEqual(FileManager.default.contents(atPath: first.path), FileManager.default.contents(atPath: second.path))
        XCTAssertNotEqual(first.digest, first.diffID, "digest is of the compressed bytes, diff_id of the tar")
    }

    func testEntriesAreSortedWithExplicitParentsAndFixedMetadata() throws {
        let entries = [
            LayerEntry(path: "app/z/deep/file.txt", content: .bytes([1, 2, 3]), mode: 0o644),
            LayerEntry(path: "app/a-b.txt", content: .bytes([]), mode: 0o644),
            LayerEntry(path: "app/run.sh", content: try file("run", "#!/bin/sh\n", mode: 0o755), mode: 0o755),
            LayerEntry(path: "app/link", content: .symlink(target: "run.sh"), mode: 0o777),
        ]
        let read = try readBack(try writer.write(entries, to: "\(directory!)/sorted.layer"))
        XCTAssertEqual(read.map(\.path), ["app/", "app/a-b.txt", "app/link", "app/run.sh", "app/z/", "app/z/deep/", "app/z/deep/file.txt"])
        XCTAssertTrue(read.allSatisfy { $0.uid == 0 && $0.gid == 0 && $0.mtime == 315_532_800 })
        XCTAssertEqual(read.first { $0.path == "app/" }?.mode, 0o755)
        XCTAssertEqual(read.first { $0.path == "app/run.sh" }?.mode, 0o755)
        XCTAssertEqual(read.first { $0.path == "app/link" }?.kind, .symlink(target: "run.sh"))
        XCTAssertEqual(read.first { $0.path == "app/z/deep/file.txt" }?.kind, .file(size: 3))
    }

    func testNormalisedModes() {
        XCTAssertEqual(LayerEntry.normalisedMode(for: .directory, sourceMode: 0o700), 0o755)
        XCTAssertEqual(LayerEntry.normalisedMode(for: .bytes([]), sourceMode: 0o600), 0o644)
        XCTAssertEqual(LayerEntry.normalisedMode(for: .bytes([]), sourceMode: 0o744), 0o755)
        XCTAssertEqual(LayerEntry.normalisedMode(for: .bytes([]), sourceMode: 0o4755), 0o755)
        XCTAssertEqual(LayerEntry.normalisedMode(for: .symlink(target: "x"), sourceMode: 0o755), 0o777)
    }

    func testLongAndNonASCIINamesRoundTrip() throws {
        let long = "app/" + String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 150) + ".txt"
        let unicode = "app/données/été-模型-🚀.txt"
        let entries = [
            LayerEntry(path: long, content: .bytes(Array("long".utf8)), mode: 0o644),
            LayerEntry(path: unicode, content: .bytes(Array("utf8".utf8)), mode: 0o644),
            LayerEntry(path: "app/link-to-long", content: .symlink(target: String(repeating: "t", count: 200)), mode: 0o777),
        ]
        let read = try readBack(try writer.write(entries, to: "\(directory!)/names.layer"))
        XCTAssertTrue(read.contains { $0.path == long })
        XCTAssertTrue(read.contains { $0.path == unicode })
        XCTAssertEqual(read.first { $0.path == "app/link-to-long" }?.kind, .symlink(target: String(repeating: "t", count: 200)))
    }

    func testGzipHeaderHasNoNameOrTime() throws {
        let layer = try writer.write([LayerEntry(path: "a", content: .bytes([1]), mode: 0o644)], to: "\(directory!)/h.layer")
        let bytes = Array(FileManager.default.contents(atPath: layer.path)!.prefix(10))
        XCTAssertEqual(bytes[0...3], [0x1f, 0x8b, 0x08, 0x00], "gzip magic, deflate, no FNAME/FEXTRA/FCOMMENT flags")
        XCTAssertEqual(bytes[4...7], [0, 0, 0, 0], "MTIME is zero")
    }

    func testZstdLayersAreDeterministicToo() throws {
        let zstd = LayerWriter(compression: .zstd, level: 3, workers: 2, mtime: 0)
        let entries = [LayerEntry(path: "x.bin", content: .bytes(Array(repeating: 7, count: 300_000)), mode: 0o644)]
        let one = try zstd.write(entries, to: "\(directory!)/1.layer")
        let two = try zstd.write(entries, to: "\(directory!)/2.layer")
        XCTAssertEqual(one.digest, two.digest)
        XCTAssertEqual(one.mediaType, MediaType.layerTarZstd)
        XCTAssertEqual(try readBack(one).map(\.path), ["x.bin"])
    }
}
