@testable import FairArchive
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Layers built to attack the extractor. Each test works in its own directory under /tmp:
/// `roots/rN` are root filesystems, `sentinel/` (with a file `x`) and `outside-file` stand for the
/// host. After every test, everything in that directory outside the roots must be exactly as it
/// was, and named host paths under /tmp must not exist. Hostile cases run twice: with the kernel
/// resolving paths (openat2) where it can, and with the userspace walk that replaces it elsewhere.
final class LayerExtractorTests: XCTestCase {
    private var sandbox = ""
    private var roots: [String] = []
    private var hostPathsThatMustNotExist: [String] = []
    private var outsideBefore: [String: String] = [:]

    private var sentinel: String { sandbox + "/sentinel" }
    private var outsideFile: String { sandbox + "/outside-file" }
    /// The sandbox path without its leading `/`, to spell it below a root.
    private var sandboxBelowRoot: String { String(sandbox.dropFirst()) }

    private static let strategies: [RootResolver.Strategy] = [.kernelWhenAvailable, .userspace]

    override func setUpWithError() throws {
        sandbox = "/tmp/fair-extract-\(UUID().uuidString)"
        roots = []
        hostPathsThatMustNotExist = []
        let files = FileManager.default
        try files.createDirectory(atPath: sandbox + "/roots", withIntermediateDirectories: true)
        try files.createDirectory(atPath: sandbox + "/layers", withIntermediateDirectories: true)
        try files.createDirectory(atPath: sentinel, withIntermediateDirectories: true)
        try "host file".write(toFile: sentinel + "/x", atomically: false, encoding: .utf8)
        try "host secret".write(toFile: outsideFile, atomically: false, encoding: .utf8)
        outsideBefore = try snapshotOutsideRoots()
    }

    override func tearDownWithError() throws {
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        XCTAssertEqual(try snapshotOutsideRoots(), outsideBefore, "something changed outside the root filesystems")
        for path in hostPathsThatMustNotExist {
            XCTAssertNil(lstatOf(path), "\(path) was created on the host")
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    // MARK: - Ordinary layers

    func testAppliesFilesDirectoriesLinksAndAttributesInEveryCompression() throws {
        let big = (0..<(3 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        for compression in [nil, CompressionAlgorithm.gzip, .zstd] {
            let layer = try makeLayer(compression) { tar in
                try tar.writeHeader(self.dir("./", mode: 0o755, mtime: 1_000))
                try tar.writeHeader(self.dir("usr/", mode: 0o755, mtime: 2_000))
                try tar.writeHeader(self.dir("usr/bin/", mode: 0o750, gid: 1001, mtime: 3_000))
                try tar.writeFile(self.file("usr/bin/tool", mode: 0o755, uid: 1000, gid: 1001, mtime: 4_000), contents: Array("tool".utf8))
                try tar.writeFile(self.file("usr/bin/su", mode: 0o4755), contents: Array("su".utf8))
                try tar.writeFile(self.file("usr/bin/sg", mode: 0o2711), contents: Array("sg".utf8))
                try tar.writeHeader(self.dir("etc/", mode: 0o755))
                try tar.writeFile(self.file("etc/config", mode: 0o644, mtime: 5_000), contents: Array("config".utf8))
                try tar.writeHeader(TarEntry(path: "usr/bin/link", kind: .symlink(target: "tool"), mode: 0o777, uid: 1000, gid: 1001, mtime: 6_000))
                try tar.writeHeader(TarEntry(path: "etc/absolute", kind: .symlink(target: "/usr/bin/tool"), mode: 0o777, mtime: 6_000))
                try tar.writeHeader(TarEntry(path: "usr/bin/tool2", kind: .hardlink(target: "usr/bin/tool"), mode: 0o755, mtime: 4_000))
                try tar.writeFile(self.file("usr/share/big", mode: 0o600), contents: big)
            }
            for strategy in Self.strategies {
                let root = try makeRoot()
                let summary = try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)
                let context = "\(compression?.rawValue ?? "plain"), \(strategy)"
                XCTAssertEqual(summary, ExtractionSummary(files: 5, directories: 4, symlinks: 2, hardlinks: 1), context)

                XCTAssertEqual(try contents(root + "/usr/bin/tool"), "tool", context)
                XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: root + "/usr/share/big"))), big, context)
                let tool = try XCTUnwrap(lstatOf(root + "/usr/bin/tool"))
                XCTAssertEqual(tool.st_mode & 0o7777, 0o755, context)
                XCTAssertEqual(tool.st_uid, 1000, context)
                XCTAssertEqual(tool.st_gid, 1001, context)
                XCTAssertEqual(tool.st_mtim.tv_sec, 4_000, context)
                XCTAssertEqual(tool.st_nlink, 2, context)
                XCTAssertEqual(lstatOf(root + "/usr/bin/su")?.st_mode ?? 0, InodeKind.regular | 0o4755, context)
                XCTAssertEqual(lstatOf(root + "/usr/bin/sg")?.st_mode ?? 0, InodeKind.regular | 0o2711, context)
                XCTAssertEqual(lstatOf(root + "/usr/share/big")?.st_mode ?? 0, InodeKind.regular | 0o600, context)
                XCTAssertEqual(lstatOf(root + "/etc/config")?.st_mtim.tv_sec, 5_000, context)
                XCTAssertEqual(lstatOf(root + "/usr/bin/tool2")?.st_ino, tool.st_ino, context)

                // Directory times are those of the layer, although files were created in them later.
                let bin = try XCTUnwrap(lstatOf(root + "/usr/bin"))
                XCTAssertEqual(bin.st_mode, InodeKind.directory | 0o750, context)
                XCTAssertEqual(bin.st_gid, 1001, context)
                XCTAssertEqual(bin.st_mtim.tv_sec, 3_000, context)
                XCTAssertEqual(lstatOf(root + "/usr")?.st_mtim.tv_sec, 2_000, context)
                XCTAssertEqual(lstatOf(root)?.st_mtim.tv_sec, 1_000, context)
                XCTAssertEqual(lstatOf(root + "/usr/share")?.st_mode ?? 0, InodeKind.directory | 0o755, "an implicit parent, \(context)")

                XCTAssertEqual(try linkTarget(root + "/usr/bin/link"), "tool", context)
                XCTAssertEqual(lstatOf(root + "/usr/bin/link")?.st_uid, 1000, context)
                XCTAssertEqual(lstatOf(root + "/usr/bin/link")?.st_mtim.tv_sec, 6_000, context)
                XCTAssertEqual(try linkTarget(root + "/etc/absolute"), "/usr/bin/tool", "absolute targets are written as they are, \(context)")
            }
        }
    }

    func testNamesWithinTheRootAreCleaned() throws {
        let layer = try makeLayer { tar in
            try tar.writeFile(self.file("a/b/c/file"), contents: Array("deep".utf8))
            try tar.writeFile(self.file("./dot/./slash//file"), contents: Array("x".utf8))
            try tar.writeFile(self.file("a/../b"), contents: Array("b".utf8))
        }
        XCTAssertEqual(try namesIn(layer), ["a/b/c/file", "./dot/./slash//file", "a/../b"])
        for strategy in Self.strategies {
            let root = try makeRoot()
            try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)
            XCTAssertEqual(try contents(root + "/a/b/c/file"), "deep")
            XCTAssertEqual(try contents(root + "/dot/slash/file"), "x")
            XCTAssertEqual(try contents(root + "/b"), "b")
        }
    }

    /// Decision: a leading `/` is dropped, as docker and containerd do: `/tmp/x` is the image's.
    func testAbsoluteNamesLandInsideTheRoot() throws {
        let hostDirectory = "/tmp/fair-extract-absolute-\(UUID().uuidString)"
        hostPathsThatMustNotExist.append(hostDirectory)
        let layer = try makeLayer { tar in
            try tar.writeHeader(self.dir("/", mode: 0o755))
            try tar.writeFile(self.file(hostDirectory + "/x"), contents: Array("in the image".utf8))
            try tar.writeFile(self.file("//" + self.sandboxBelowRoot + "/sentinel/x"), contents: Array("image copy".utf8))
        }
        XCTAssertEqual(try namesIn(layer).first, "/")
        for strategy in Self.strategies {
            let root = try makeRoot()
            try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)
            XCTAssertEqual(try contents(root + hostDirectory + "/x"), "in the image")
            XCTAssertEqual(try contents(root + sandbox + "/sentinel/x"), "image copy")
        }
    }

    // MARK: - Whiteouts

    func testWhiteoutsRemoveAFileAndATreeFromLowerLayers() throws {
        let lower = try makeLayer { tar in
            try tar.writeHeader(self.dir("a/"))
            try tar.writeFile(self.file("a/file"), contents: Array("gone".utf8))
            try tar.writeFile(self.file("a/keep"), contents: Array("kept".utf8))
            try tar.writeFile(self.file("tree/x/y/z"), contents: Array("gone".utf8))
            // Removing the tree must remove this link, not what it points to.
            try tar.writeHeader(TarEntry(path: "tree/x/host", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
        }
        let upper = try makeLayer { tar in
            try tar.writeFile(self.file("a/.wh.file"), contents: [])
            try tar.writeFile(self.file(".wh.tree"), contents: [])
            try tar.writeFile(self.file(".wh.never-existed"), contents: [])
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let extractor = LayerExtractor(root: root, strategy: strategy)
            try extractor.apply(layerAt: lower)
            let summary = try extractor.apply(layerAt: upper)
            XCTAssertEqual(summary, ExtractionSummary(whiteouts: 3))
            XCTAssertNil(lstatOf(root + "/a/file"))
            XCTAssertNil(lstatOf(root + "/tree"))
            XCTAssertEqual(try contents(root + "/a/keep"), "kept")
            XCTAssertEqual(try treeNames(root), ["a", "a/keep"], "no whiteout file is ever written")
        }
    }

    func testOpaqueDirectoryHidesLowerContentWhereverItsMarkerIs() throws {
        let lower = try makeLayer { tar in
            try tar.writeHeader(self.dir("a/"))
            try tar.writeHeader(self.dir("a/b/"))
            try tar.writeHeader(self.dir("a/b/c/"))
            try tar.writeFile(self.file("a/b/c/bar"), contents: Array("lower".utf8))
            try tar.writeFile(self.file("a/old"), contents: Array("lower".utf8))
            try tar.writeHeader(TarEntry(path: "a/host", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("other/keep"), contents: Array("lower".utf8))
        }
        let marker = self.file("a/.wh..wh..opq")
        let markerFirst = try makeLayer { tar in
            try tar.writeHeader(self.dir("a/"))
            try tar.writeFile(marker, contents: [])
            try tar.writeHeader(self.dir("a/b/"))
            try tar.writeHeader(self.dir("a/b/c/"))
            try tar.writeFile(self.file("a/b/c/foo"), contents: Array("upper".utf8))
        }
        let markerLast = try makeLayer { tar in
            try tar.writeHeader(self.dir("a/"))
            try tar.writeHeader(self.dir("a/b/"))
            try tar.writeHeader(self.dir("a/b/c/"))
            try tar.writeFile(self.file("a/b/c/foo"), contents: Array("upper".utf8))
            try tar.writeFile(marker, contents: [])
        }
        let markerLastWithoutDirectories = try makeLayer { tar in
            try tar.writeFile(self.file("a/b/c/foo"), contents: Array("upper".utf8))
            try tar.writeFile(marker, contents: [])
        }
        for (name, upper) in [("first", markerFirst), ("last", markerLast), ("last, no directory entries", markerLastWithoutDirectories)] {
            for strategy in Self.strategies {
                let root = try makeRoot()
                let extractor = LayerExtractor(root: root, strategy: strategy)
                try extractor.apply(layerAt: lower)
                let summary = try extractor.apply(layerAt: upper)
                XCTAssertEqual(summary.whiteouts, 1, name)
                XCTAssertEqual(try treeNames(root), ["a", "a/b", "a/b/c", "a/b/c/foo", "other", "other/keep"], "marker \(name), \(strategy)")
            }
        }
    }

    func testWhiteoutsSpareWhatTheSameLayerWrote() throws {
        let lower = try makeLayer { tar in
            try tar.writeFile(self.file("d/x/old"), contents: Array("lower".utf8))
        }
        let upper = try makeLayer { tar in
            try tar.writeFile(self.file("d/x/new"), contents: Array("upper".utf8))
            try tar.writeFile(self.file("d/.wh.x"), contents: [])
            try tar.writeFile(self.file("d/y"), contents: Array("upper".utf8))
            try tar.writeFile(self.file("d/.wh.y"), contents: [])
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let extractor = LayerExtractor(root: root, strategy: strategy)
            try extractor.apply(layerAt: lower)
            try extractor.apply(layerAt: upper)
            XCTAssertEqual(try treeNames(root), ["d", "d/x", "d/x/new", "d/y"])
        }
    }

    func testEntriesReplacePathsOfAnotherType() throws {
        let lower = try makeLayer { tar in
            try tar.writeFile(self.file("p"), contents: Array("file".utf8))
            try tar.writeFile(self.file("q/inner"), contents: Array("inner".utf8))
            try tar.writeHeader(TarEntry(path: "s", kind: .symlink(target: "q"), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("m/lower"), contents: Array("lower".utf8))
            try tar.writeFile(self.file("h1"), contents: Array("old".utf8))
            try tar.writeHeader(TarEntry(path: "h2", kind: .hardlink(target: "h1"), mode: 0o644, mtime: 1))
        }
        let upper = try makeLayer { tar in
            try tar.writeHeader(self.dir("p/"))
            try tar.writeFile(self.file("p/child"), contents: Array("child".utf8))
            try tar.writeFile(self.file("q"), contents: Array("now a file".utf8))
            try tar.writeHeader(self.dir("s/"))
            try tar.writeHeader(self.dir("m/", mode: 0o700))
            try tar.writeFile(self.file("m/upper"), contents: Array("upper".utf8))
            try tar.writeFile(self.file("h2"), contents: Array("new".utf8))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let extractor = LayerExtractor(root: root, strategy: strategy)
            try extractor.apply(layerAt: lower)
            try extractor.apply(layerAt: upper)
            XCTAssertEqual(try contents(root + "/p/child"), "child")
            XCTAssertEqual(try contents(root + "/q"), "now a file")
            XCTAssertEqual(lstatOf(root + "/s").map(InodeKind.of), InodeKind.directory)
            XCTAssertEqual(try treeNames(root + "/s"), [])
            XCTAssertEqual(try treeNames(root + "/m"), ["lower", "upper"], "a directory over a directory merges")
            XCTAssertEqual(lstatOf(root + "/m")?.st_mode ?? 0, InodeKind.directory | 0o700)
            XCTAssertEqual(try contents(root + "/h1"), "old", "replacing one hard link leaves the other alone")
            XCTAssertEqual(try contents(root + "/h2"), "new")
            XCTAssertEqual(lstatOf(root + "/h1")?.st_nlink, 1)
        }
    }

    // MARK: - Hostile names

    func testNamesClimbingAboveTheRootAreRefused() throws {
        // The third hides "/.." behind a combining mark that Swift's Character would fuse with "/".
        for name in ["../escape", "a/../../escape", "../\u{301}escape", "./../escape", "a/b/../../../escape"] {
            let layer = try makeLayer { tar in
                try tar.writeFile(self.file("before"), contents: Array("fine".utf8))
                try tar.writeFile(self.file(name), contents: Array("escaped".utf8))
            }
            XCTAssertEqual(try namesIn(layer), ["before", name])
            for strategy in Self.strategies {
                let root = try makeRoot()
                assertRefused(try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer), entry: name)
                XCTAssertEqual(try treeNames(root), ["before"])
            }
        }
    }

    func testEmptyNamesAndFilesNamingTheRootAreRefused() throws {
        // (libarchive reads a regular file whose name ends in "/" as a directory, so "./" and "/"
        // are tried as symbolic links.)
        let entries = [
            RawEntry(name: ".", type: "0", content: Array("x".utf8)),
            RawEntry(name: "/.", type: "0", content: Array("x".utf8)),
            RawEntry(name: "./", type: "2"),
            RawEntry(name: "/", type: "2"),
        ]
        for entry in entries {
            let name = entry.name
            XCTAssertEqual(try namesIn(try rawLayer([entry])), [name])
            let layer = try rawLayer([entry])
            for strategy in Self.strategies {
                let root = try makeRoot()
                assertRefused(try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer), entry: name)
            }
        }
        let empty = try rawLayer([RawEntry(name: "", type: "0", content: Array("x".utf8))])
        XCTAssertThrowsError(try LayerExtractor(root: try makeRoot()).apply(layerAt: empty))
    }

    func testSymlinkToAHostDirectoryIsResolvedInsideTheRoot() throws {
        let layer = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "evil", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("evil/pwned"), contents: Array("pwned".utf8))
            try tar.writeHeader(TarEntry(path: "chain", kind: .symlink(target: "evil"), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("chain/x"), contents: Array("pwned".utf8))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)
            XCTAssertEqual(try contents(root + sentinel + "/pwned"), "pwned", "written where the link leads inside the root")
            XCTAssertEqual(try contents(root + sentinel + "/x"), "pwned")
            XCTAssertEqual(try linkTarget(root + "/evil"), sentinel)
        }
    }

    func testWritesThroughAbsoluteLinksAreRefusedWhenAsked() throws {
        let layer = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "usr/lib", kind: .directory, mode: 0o755, mtime: 1))
            try tar.writeHeader(TarEntry(path: "lib", kind: .symlink(target: "usr/lib"), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("lib/ok"), contents: Array("fine".utf8))
            try tar.writeHeader(TarEntry(path: "evil", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("evil/pwned"), contents: Array("pwned".utf8))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            XCTAssertThrowsError(try LayerExtractor(root: root, strategy: strategy, refusesAbsoluteLinks: true).apply(layerAt: layer)) { error in
                XCTAssertEqual("\(error)", "refusing archive entry evil/pwned: it is written through the symbolic link evil -> \(self.sentinel), which points outside the layer's root")
            }
            XCTAssertEqual(try contents(root + "/usr/lib/ok"), "fine", "relative links are followed as usual")
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + sentinel + "/pwned"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: sentinel + "/pwned"), "nothing on the host")
        }
    }

    func testSymlinkClimbingOutStopsAtTheRoot() throws {
        let hostFile = "/tmp/fair-extract-pwned-\(UUID().uuidString)"
        hostPathsThatMustNotExist.append(hostFile)
        let plant = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "up", kind: .symlink(target: "../../../../../../../.."), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "rel", kind: .symlink(target: "../sentinel"), mode: 0o777, mtime: 1))
        }
        let use = try makeLayer { tar in
            try tar.writeFile(self.file("up" + hostFile), contents: Array("pwned".utf8))
            try tar.writeFile(self.file("up/" + self.sandboxBelowRoot + "/sentinel/x"), contents: Array("pwned".utf8))
            try tar.writeFile(self.file("rel/x"), contents: Array("pwned".utf8))
            try tar.writeFile(self.file("up/up/up/y"), contents: Array("root".utf8))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let extractor = LayerExtractor(root: root, strategy: strategy)
            try extractor.apply(layerAt: plant)
            try extractor.apply(layerAt: use)
            XCTAssertEqual(try contents(root + hostFile), "pwned")
            XCTAssertEqual(try contents(root + sentinel + "/x"), "pwned")
            XCTAssertEqual(try contents(root + "/sentinel/x"), "pwned")
            XCTAssertEqual(try contents(root + "/y"), "root")
        }
    }

    func testSymlinkLoopsAreRefused() throws {
        let layer = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "l1", kind: .symlink(target: "l2"), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "l2", kind: .symlink(target: "/l1"), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("l1/x"), contents: Array("x".utf8))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            XCTAssertThrowsError(try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)) { error in
                XCTAssertEqual(error as? ArchiveError, .io(path: "l1/x", operation: "resolve the directory of", errno: ELOOP))
            }
            XCTAssertEqual(try treeNames(root), ["l1", "l2"])
        }
    }

    func testHardLinksCannotReachOutsideTheRoot() throws {
        let plant = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "host", kind: .symlink(target: self.sandbox), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "up", kind: .symlink(target: "../../../../../.."), mode: 0o777, mtime: 1))
            try tar.writeHeader(self.dir("d/"))
        }
        let targets = [
            "d",  // directories cannot be hard linked
            "../../outside-file",
            "a/../../outside-file",
            outsideFile,
            "host/outside-file",
            "up/" + sandboxBelowRoot + "/outside-file",
            "up/" + sandboxBelowRoot + "/sentinel/x",
        ]
        for target in targets {
            let layer = try makeLayer { tar in
                try tar.writeHeader(TarEntry(path: "h", kind: .hardlink(target: target), mode: 0o644, mtime: 1))
            }
            for strategy in Self.strategies {
                let root = try makeRoot()
                let extractor = LayerExtractor(root: root, strategy: strategy)
                try extractor.apply(layerAt: plant)
                assertRefused(try extractor.apply(layerAt: layer), entry: "h", target)
                XCTAssertNil(lstatOf(root + "/h"), target)
            }
        }
        XCTAssertEqual(lstatOf(outsideFile)?.st_nlink, 1)
    }

    func testHardLinksResolveInsideTheRootAndLinkSymlinksThemselves() throws {
        let layer = try makeLayer { tar in
            try tar.writeFile(self.file(self.sandboxBelowRoot + "/outside-file"), contents: Array("image copy".utf8))
            try tar.writeHeader(TarEntry(path: "host", kind: .symlink(target: self.sandbox), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "h1", kind: .hardlink(target: self.outsideFile), mode: 0o644, mtime: 1))
            try tar.writeHeader(TarEntry(path: "h2", kind: .hardlink(target: "host/outside-file"), mode: 0o644, mtime: 1))
            try tar.writeHeader(TarEntry(path: "h3", kind: .hardlink(target: "host"), mode: 0o644, mtime: 1))
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let summary = try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)
            XCTAssertEqual(summary.hardlinks, 3)
            let copy = try XCTUnwrap(lstatOf(root + outsideFile))
            XCTAssertEqual(copy.st_nlink, 3)
            XCTAssertEqual(lstatOf(root + "/h1")?.st_ino, copy.st_ino)
            XCTAssertEqual(lstatOf(root + "/h2")?.st_ino, copy.st_ino)
            XCTAssertEqual(try linkTarget(root + "/h3"), sandbox, "a hard link to a symbolic link is that link")
        }
    }

    func testSymlinkReplacedByADirectoryIsWrittenIntoTheDirectory() throws {
        let sameLayer = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "d", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
            try tar.writeHeader(self.dir("d/"))
            try tar.writeFile(self.file("d/x"), contents: Array("inside".utf8))
        }
        let plant = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "d", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
        }
        let replace = try makeLayer { tar in
            try tar.writeHeader(self.dir("d/"))
        }
        let writeThrough = try makeLayer { tar in
            try tar.writeFile(self.file("d/x"), contents: Array("inside".utf8))
        }
        for strategy in Self.strategies {
            for layers in [[sameLayer], [plant, replace, writeThrough]] {
                let root = try makeRoot()
                let extractor = LayerExtractor(root: root, strategy: strategy)
                for layer in layers { try extractor.apply(layerAt: layer) }
                XCTAssertEqual(lstatOf(root + "/d").map(InodeKind.of), InodeKind.directory)
                XCTAssertEqual(try contents(root + "/d/x"), "inside")
            }
        }
    }

    func testDeviceNodesAreRefusedAndFifosAndSocketsSkipped() throws {
        for (name, type) in [("dev/null", UInt8(ascii: "3")), ("dev/sda", UInt8(ascii: "4"))] {
            let layer = try rawLayer([
                RawEntry(name: "dev/", type: "5"),
                RawEntry(name: name, type: type, deviceMajor: 1, deviceMinor: 3),
            ])
            for strategy in Self.strategies {
                let root = try makeRoot()
                XCTAssertThrowsError(try LayerExtractor(root: root, strategy: strategy).apply(layerAt: layer)) { error in
                    guard case let .unsafeEntry(path, _)? = error as? ArchiveError else {
                        return XCTFail("expected a refusal, got \(error)")
                    }
                    XCTAssertEqual(path, name)
                    XCTAssertTrue("\(error)".contains(name), "\(error)")
                    XCTAssertTrue("\(error)".contains("device"), "\(error)")
                }
                XCTAssertEqual(try treeNames(root), ["dev"])
            }
        }
        let fifo = try rawLayer([
            RawEntry(name: "run/fifo", type: "6"),
            RawEntry(name: "run/after", type: "0", content: Array("after".utf8)),
        ])
        for strategy in Self.strategies {
            let root = try makeRoot()
            let summary = try LayerExtractor(root: root, strategy: strategy).apply(layerAt: fifo)
            XCTAssertEqual(summary, ExtractionSummary(files: 1, skipped: 1))
            XCTAssertEqual(try treeNames(root), ["run", "run/after"])
        }
    }

    func testWhiteoutsThroughSymlinksNeverRemoveOutsideTheRoot() throws {
        let plant = try makeLayer { tar in
            try tar.writeHeader(TarEntry(path: "link", kind: .symlink(target: self.sentinel), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "up", kind: .symlink(target: "../../../../../../.."), mode: 0o777, mtime: 1))
            try tar.writeHeader(TarEntry(path: "inroot", kind: .symlink(target: "/real"), mode: 0o777, mtime: 1))
            try tar.writeFile(self.file("real/x"), contents: Array("image".utf8))
            try tar.writeFile(self.file("real/y"), contents: Array("image".utf8))
        }
        let whiteouts = try makeLayer { tar in
            try tar.writeFile(self.file("link/.wh.x"), contents: [])
            try tar.writeFile(self.file("link/.wh..wh..opq"), contents: [])
            try tar.writeFile(self.file("up/" + self.sandboxBelowRoot + "/sentinel/.wh.x"), contents: [])
            try tar.writeFile(self.file("up/" + self.sandboxBelowRoot + "/.wh.sentinel"), contents: [])
            try tar.writeFile(self.file("up/" + self.sandboxBelowRoot + "/.wh..wh..opq"), contents: [])
            try tar.writeFile(self.file("inroot/.wh.x"), contents: [])
        }
        for strategy in Self.strategies {
            let root = try makeRoot()
            let extractor = LayerExtractor(root: root, strategy: strategy)
            try extractor.apply(layerAt: plant)
            let summary = try extractor.apply(layerAt: whiteouts)
            XCTAssertEqual(summary.whiteouts, 6)
            XCTAssertEqual(try treeNames(root), ["inroot", "link", "real", "real/y", "up"], "only the in-root target went")
        }
    }

    func testBadAndReservedWhiteoutNames() throws {
        for name in ["d/.wh.", "d/.wh..", "d/.wh..."] {
            let layer = try makeLayer { tar in
                try tar.writeFile(self.file("d/keep"), contents: Array("kept".utf8))
                try tar.writeFile(self.file(name), contents: [])
            }
            let root = try makeRoot()
            assertRefused(try LayerExtractor(root: root).apply(layerAt: layer), entry: name)
            XCTAssertEqual(try treeNames(root), ["d", "d/keep"])
        }
        let bookkeeping = try makeLayer { tar in
            try tar.writeHeader(self.dir(".wh..wh.plnk/"))
            try tar.writeFile(self.file(".wh..wh.plnk/123.456"), contents: Array("aufs".utf8))
            try tar.writeFile(self.file(".wh..wh.aufs"), contents: [])
            try tar.writeFile(self.file("fine"), contents: [])
        }
        let root = try makeRoot()
        XCTAssertEqual(try LayerExtractor(root: root).apply(layerAt: bookkeeping), ExtractionSummary(files: 1, skipped: 3))
        XCTAssertEqual(try treeNames(root), ["fine"])
    }

    func testRemovingAnAbsurdlyDeepTreeIsRefusedNotACrash() throws {
        let deep = "d/" + String(repeating: "a/", count: TreeRemoval.maximumDepth + 10) + "f"
        let lower = try makeLayer { tar in
            try tar.writeFile(self.file(deep), contents: Array("deep".utf8))
        }
        let remove = try makeLayer { tar in
            try tar.writeFile(self.file(".wh.d"), contents: [])
        }
        let opaque = try makeLayer { tar in
            try tar.writeFile(self.file("d/.wh..wh..opq"), contents: [])
        }
        for strategy in Self.strategies {
            for (name, upper) in [(".wh.d", remove), ("d/.wh..wh..opq", opaque)] {
                let root = try makeRoot()
                let extractor = LayerExtractor(root: root, strategy: strategy)
                try extractor.apply(layerAt: lower)
                XCTAssertEqual(try contents(root + "/" + deep), "deep")
                assertRefused(try extractor.apply(layerAt: upper), entry: name)
            }
        }
    }

    func testOwnersOutOfRangeAreRefused() throws {
        let layer = try makeLayer { tar in
            try tar.writeFile(self.file("f", uid: 4_294_967_295), contents: [])
        }
        assertRefused(try LayerExtractor(root: try makeRoot()).apply(layerAt: layer), entry: "f")
    }

    func testKernelResolutionIsPreferredWhereAvailable() throws {
        let root = try makeRoot()
        let descriptor = open(root, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        let available = RootResolver.kernelResolvesInRoot(descriptor)
        XCTAssertEqual(try RootResolver(rootPath: root, strategy: .kernelWhenAvailable).usesKernel, available)
        XCTAssertFalse(try RootResolver(rootPath: root, strategy: .userspace).usesKernel)
        if !available { throw XCTSkip("openat2 with RESOLVE_IN_ROOT is not available here; the userspace walk is used") }
    }

    // MARK: - Helpers

    private func makeRoot() throws -> String {
        let root = sandbox + "/roots/r\(roots.count)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
        roots.append(root)
        return root
    }

    private func makeLayer(_ compression: CompressionAlgorithm? = nil, _ build: (TarWriter) throws -> Void) throws -> String {
        let path = sandbox + "/layers/\(UUID().uuidString).tar"
        let file = try FileSink(path: path)
        let sink: ByteSink = try compression.map { try $0.makeCompressor(level: $0.defaultLevel, workers: 1, downstream: file) } ?? file
        let tar = try TarWriter(sink: sink)
        try build(tar)
        try tar.finish()
        return path
    }

    private func dir(_ path: String, mode: UInt32 = 0o755, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64 = 1) -> TarEntry {
        TarEntry(path: path, kind: .directory, mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    private func file(_ path: String, mode: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64 = 1) -> TarEntry {
        TarEntry(path: path, kind: .file(size: 0), mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    /// One entry of a tar written byte by byte (ustar), for what TarWriter will not write.
    private struct RawEntry {
        var name: String
        var type: UInt8
        var content: [UInt8] = []
        var deviceMajor = 0
        var deviceMinor = 0

        init(name: String, type: UInt8, content: [UInt8] = [], deviceMajor: Int = 0, deviceMinor: Int = 0) {
            self.name = name
            self.type = type
            self.content = content
            self.deviceMajor = deviceMajor
            self.deviceMinor = deviceMinor
        }

        init(name: String, type: Character, content: [UInt8] = []) {
            self.init(name: name, type: type.asciiValue!, content: content)
        }
    }

    private func rawLayer(_ entries: [RawEntry]) throws -> String {
        var bytes: [UInt8] = []
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ field: [UInt8], at offset: Int) {
                for (index, byte) in field.enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, width: Int) -> [UInt8] {
                let digits = String(value, radix: 8)
                return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
            }
            put(Array(entry.name.utf8), at: 0)
            put(octal(0o644, width: 8), at: 100)
            put(octal(0, width: 8), at: 108)
            put(octal(0, width: 8), at: 116)
            put(octal(entry.content.count, width: 12), at: 124)
            put(octal(1, width: 12), at: 136)
            put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
            header[156] = entry.type
            put(Array("ustar\u{0}00".utf8), at: 257)
            put(octal(entry.deviceMajor, width: 8), at: 329)
            put(octal(entry.deviceMinor, width: 8), at: 337)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(octal(checksum, width: 7) + [UInt8(ascii: " ")], at: 148)
            bytes += header + entry.content
            bytes += [UInt8](repeating: 0, count: (512 - entry.content.count % 512) % 512)
        }
        bytes += [UInt8](repeating: 0, count: 1024)
        let path = sandbox + "/layers/\(UUID().uuidString).tar"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The names in a layer as a reader sees them: proof that a hostile name survived writing.
    private func namesIn(_ layer: String) throws -> [String] {
        let reader = try TarReader(path: layer)
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.path) }
        return names
    }

    private func assertRefused(
        _ expression: @autoclosure () throws -> ExtractionSummary, entry: String, _ context: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), context, file: file, line: line) { error in
            guard case let .unsafeEntry(path, _)? = error as? ArchiveError else {
                return XCTFail("expected a refusal of \(entry), got \(error) \(context)", file: file, line: line)
            }
            XCTAssertEqual(path, entry, context, file: file, line: line)
        }
    }

    private func lstatOf(_ path: String) -> stat? {
        var status = stat()
        return lstat(path, &status) == 0 ? status : nil
    }

    private func contents(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    private func linkTarget(_ path: String) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    /// Every path below `directory`, sorted, without following links.
    private func treeNames(_ directory: String) throws -> [String] {
        var names: [String] = []
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? directory : directory + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: full) {
                let child = relative.isEmpty ? name : relative + "/" + name
                names.append(child)
                if let status = lstatOf(directory + "/" + child), InodeKind.isDirectory(status) { try walk(child) }
            }
        }
        try walk("")
        return names.sorted()
    }

    /// Everything in the sandbox but the root filesystems and layers: type, mode, owner, links,
    /// size, times and contents.
    private func snapshotOutsideRoots() throws -> [String: String] {
        var snapshot: [String: String] = [:]
        func walk(_ path: String) throws {
            guard let status = lstatOf(path) else { return }
            var description = "\(status.st_mode) \(status.st_uid):\(status.st_gid) n\(status.st_nlink) s\(status.st_size) t\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
            switch InodeKind.of(status) {
            case InodeKind.regular: description += " " + (try contents(path))
            case InodeKind.symlink: description += " -> " + (try linkTarget(path))
            case InodeKind.directory:
                for name in try FileManager.default.contentsOfDirectory(atPath: path) {
                    let child = path + "/" + name
                    if roots.contains(child) || child == sandbox + "/layers" { continue }
                    try walk(child)
                }
            default: break
            }
            // The directory of roots changes as roots are made; its other entries are checked.
            if path != sandbox + "/roots" { snapshot[path] = description }
        }
        try walk(sandbox)
        return snapshot
    }
}
