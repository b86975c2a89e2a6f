import Foundation
import XCTest
@testable import FairBuild

/// Layers by rate of change: big non-code files as `assets` (or fair.yaml's `layers:`), built
/// deterministically, cached while their files are unchanged, and rebuilt alone when one changes.
final class LayerPlanTests: XCTestCase {
    private var root: URL!
    private var project: String { root.appendingPathComponent("project").path }
    private var home: FairHome { FairHome(environment: ["FAIR_HOME": root.appendingPathComponent("home").path]) }

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-layers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: project + "/data", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(project)/\(relative)"))
    }

    private func write(_ relative: String, bytes count: Int, seed: UInt8) throws {
        var generator = SeededBytes(seed: seed)
        try Data((0..<count).map { _ in generator.next() }).write(to: URL(fileURLWithPath: "\(project)/\(relative)"))
    }

    private func build(home: FairHome? = nil) throws -> BuildResult {
        var options = BuildOptions(projectDirectory: project)
        options.base = "scratch"
        options.outputArchive = root.appendingPathComponent("image.tar").path
        options.workers = 1
        return try ImageBuilder(options: options, home: home ?? self.home).build()
    }

    /// The paths a built layer holds, read back with tar from the image archive.
    private func paths(of layer: BuildResult.Layer) throws -> [String] {
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/sh")
        tar.arguments = ["-c", "tar -xOf \"$0\" blobs/sha256/$1 | tar -tzf -", root.appendingPathComponent("image.tar").path, layer.digest.encoded]
        let pipe = Pipe()
        tar.standardOutput = pipe
        try tar.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        tar.waitUntilExit()
        XCTAssertEqual(tar.terminationStatus, 0)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    private func projectFiles() throws {
        try write("train.py", "print('train')\n")
        try write("big_module.py", String(repeating: "x = 1\n", count: 200_000))  // 1.2 MB of code stays code
        try write("data/small.csv", "a,b\n1,2\n")
        try write("data/big.bin", bytes: 2 << 20, seed: 1)
        try write("weights.pt", bytes: (1 << 20) + 1, seed: 2)
    }

    func testBigNonCodeFilesGoToTheAssetsLayerAndTheRestStaysCode() throws {
        try projectFiles()
        let result = try build()
        XCTAssertEqual(result.layers.map(\.source), ["assets", "code"])
        let assets = result.layers[0], code = result.layers[1]
        XCTAssertEqual(assets.files, 2)
        XCTAssertEqual(try paths(of: assets).filter { !$0.hasSuffix("/") }, ["app/data/big.bin", "app/weights.pt"])
        XCTAssertTrue(try paths(of: assets).contains("app/data/"), "the parents each layer needs")
        let codePaths = try paths(of: code)
        for file in ["app/train.py", "app/big_module.py", "app/data/small.csv"] { XCTAssertTrue(codePaths.contains(file), "\(codePaths)") }
        XCTAssertFalse(codePaths.contains("app/data/big.bin"))
        XCTAssertEqual(code.files, 3)

        // The same files give the same bytes, cache or not.
        let again = try build(home: FairHome(environment: ["FAIR_HOME": root.appendingPathComponent("home2").path]))
        XCTAssertEqual(again.digest, result.digest)
    }

    func testACodeChangeRebuildsOnlyTheCodeLayerAndAChangedAssetOnlyItsOwn() throws {
        try projectFiles()
        let first = try build()
        XCTAssertFalse(first.layers[0].cached)

        try write("train.py", "print('train, changed')\n")
        let second = try build()
        XCTAssertEqual(second.layers[0].digest, first.layers[0].digest)
        XCTAssertTrue(second.layers[0].cached, "the assets layer comes from the cache")
        XCTAssertNotEqual(second.layers[1].digest, first.layers[1].digest)

        // Rewritten in place with the same size: its ctime moves, so the layer is rebuilt.
        try write("weights.pt", bytes: (1 << 20) + 1, seed: 3)
        let third = try build()
        XCTAssertFalse(third.layers[0].cached)
        XCTAssertNotEqual(third.layers[0].digest, first.layers[0].digest)
        XCTAssertEqual(third.layers[1].digest, second.layers[1].digest, "the code layer did not change")

        // Touched, not changed: built again, to the same bytes.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: project + "/weights.pt")
        let fourth = try build()
        XCTAssertFalse(fourth.layers[0].cached)
        XCTAssertEqual(fourth.layers[0].digest, third.layers[0].digest)
    }

    func testLayersFromFairYamlInTheirOrderAndIgnoredFilesInNone() throws {
        try projectFiles()
        try write("data/vocab.py", "WORDS = []\n")
        try write(".fairignore", "weights.pt\n")
        try write("fair.yaml", """
            entrypoint: train.py
            layers:
            - name: data
              paths: [data]
            - name: big
              minSize: 1MiB
            """)
        let result = try build()
        XCTAssertEqual(result.layers.map(\.source), ["data", "code"], "weights.pt is ignored; big_module.py is code")
        XCTAssertEqual(try paths(of: result.layers[0]).filter { !$0.hasSuffix("/") },
                       ["app/data/big.bin", "app/data/small.csv", "app/data/vocab.py"], "paths take code files too")

        try write("fair.yaml", "entrypoint: train.py\nlayers: []\n")
        XCTAssertEqual(try build().layers.map(\.source), ["code"])
    }

    func testTheEntrypointStaysWithTheCode() throws {
        try write("train.py", "print(1)\n")
        try write("fair.yaml", "entrypoint: train.py\nlayers:\n- name: everything\n  paths: ['*']\n")
        try write("data/big.bin", bytes: 10, seed: 1)
        let result = try build()
        XCTAssertEqual(result.layers.map(\.source), ["everything", "code"])
        XCTAssertTrue(try paths(of: result.layers[1]).contains("app/train.py"))
        XCTAssertFalse(try paths(of: result.layers[0]).contains("app/train.py"))
    }

    func testBadLayersAreRefusedNamingTheField() throws {
        try write("train.py", "print(1)\n")
        let cases: [(String, String)] = [
            ("layers: data", "layers: expected a list of layers"),
            ("layers:\n- paths: [data]", "layers[0].name: required"),
            ("layers:\n- name: code\n  paths: [data]", "layers[0].name: \"code\" is the image's own layer"),
            ("layers:\n- name: Data\n  paths: [data]", "\"Data\" is not a layer name"),
            ("layers:\n- name: a\n  paths: [x]\n- name: a\n  paths: [y]", "layers[1].name: a second layer named \"a\""),
            ("layers:\n- name: a\n  minSize: lots", "layers[0].minSize: \"lots\" is not a size"),
            ("layers:\n- name: a", "layer \"a\" needs paths, minSize or both"),
            ("layers:\n- name: a\n  path: [x]", "unknown key \"layers[0].path\" (did you mean \"paths\"?)"),
            ("layers:\n- name: a\n  paths: []", "layers[0].paths: an empty list matches nothing"),
        ]
        for (yaml, message) in cases {
            try write("fair.yaml", "entrypoint: train.py\n" + yaml + "\n")
            XCTAssertThrowsError(try build(), yaml) { error in
                XCTAssertTrue("\(error)".contains(message), "\(yaml): \(error)")
                XCTAssertTrue("\(error)".contains("fair.yaml"), "\(error)")
            }
        }
    }

    func testSizesAsPeopleWriteThem() {
        XCTAssertEqual(ByteSize.parse("1MiB"), 1 << 20)
        XCTAssertEqual(ByteSize.parse("512Ki"), 512 << 10)
        XCTAssertEqual(ByteSize.parse("10MB"), 10_000_000)
        XCTAssertEqual(ByteSize.parse("2k"), 2000)
        XCTAssertEqual(ByteSize.parse("1048576"), 1_048_576)
        XCTAssertNil(ByteSize.parse("-1"))
        XCTAssertNil(ByteSize.parse("1 TiB"))
        XCTAssertNil(ByteSize.parse("99999999999999Gi"))
    }
}

/// Bytes that do not compress, the same for a seed.
private struct SeededBytes {
    var state: UInt64
    init(seed: UInt8) { state = 0x9E37_79B9_7F4A_7C15 &* UInt64(seed + 1) }
    mutating func next() -> UInt8 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}
