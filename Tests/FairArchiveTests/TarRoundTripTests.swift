import FairArchive
import Foundation
import XCTest

final class TarRoundTripTests: XCTestCase {
    func testWriterOutputReadsBackEntryForEntry() throws {
        let path = NSTemporaryDirectory() + "roundtrip-\(UUID().uuidString).tar"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tar = try TarWriter(sink: try FileSink(path: path))
        try tar.writeHeader(TarEntry(path: "dir/", kind: .directory, mode: 0o755, mtime: 5))
        try tar.writeFile(TarEntry(path: "dir/file", kind: .file(size: 0), mode: 0o600, uid: 1000, gid: 100, mtime: 5), contents: Array("hello".utf8))
        try tar.writeHeader(TarEntry(path: "dir/sym", kind: .symlink(target: "file"), mode: 0o777, mtime: 5))
        try tar.writeHeader(TarEntry(path: "dir/hard", kind: .hardlink(target: "dir/file"), mode: 0o600, mtime: 5))
        try tar.finish()

        let reader = try TarReader(path: path)
        var seen: [TarEntry] = []
        var contents: [UInt8] = []
        while let entry = try reader.next() {
            seen.append(entry)
            if entry.path == "dir/file" { contents = try reader.readSmallData() }
        }
        XCTAssertEqual(seen.map(\.path), ["dir/", "dir/file", "dir/sym", "dir/hard"])
        XCTAssertEqual(seen[1].uid, 1000)
        XCTAssertEqual(seen[1].mode, 0o600)
        XCTAssertEqual(seen[2].kind, .symlink(target: "file"))
        XCTAssertEqual(seen[3].kind, .hardlink(target: "dir/file"))
        XCTAssertEqual(String(decoding: contents, as: UTF8.self), "hello")
        // No padding to 10 KiB records: headers + data block + two end blocks.
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(size, 10240)
    }

    func testReaderRefusesANonArchive() throws {
        let path = NSTemporaryDirectory() + "not-a-tar-\(UUID().uuidString)"
        try "just text, not a tar archive".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try { let r = try TarReader(path: path); _ = try r.next() }())
    }
}
