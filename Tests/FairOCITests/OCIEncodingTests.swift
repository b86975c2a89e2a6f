import FairOCI
import XCTest

final class OCIEncodingTests: XCTestCase {
    let digest = Digest.sha256(hex: String(repeating: "a", count: 64))

    func testManifestEncodesWithSortedKeysAndUnescapedSlashes() throws {
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.imageConfig, digest: digest, size: 2),
            layers: [Descriptor(mediaType: MediaType.layerTarGzip, digest: digest, size: 3)])
        let json = String(decoding: try CanonicalJSON.encode(manifest), as: UTF8.self)
        let d = digest.description
        XCTAssertEqual(json, """
            {"config":{"digest":"\(d)","mediaType":"application/vnd.oci.image.config.v1+json","size":2},\
            "layers":[{"digest":"\(d)","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":3}],\
            "mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}
            """)
    }

    func testEncodingIsStable() throws {
        var config = ImageConfig.ExecutionConfig()
        config.Labels = ["z": "1", "a": "2", "m": "3"]
        config.Env = ["B=1", "A=2"]
        let image = ImageConfig(created: "1980-01-01T00:00:00Z", architecture: "amd64", os: "linux", config: config,
                                rootfs: .init(diffIDs: [digest]), history: nil)
        let first = try CanonicalJSON.encode(image)
        for _ in 0..<20 { XCTAssertEqual(try CanonicalJSON.encode(image), first) }
        let text = String(decoding: first, as: UTF8.self)
        XCTAssertTrue(text.contains(#""Labels":{"a":"2","m":"3","z":"1"}"#))
        XCTAssertTrue(text.contains(#""Env":["B=1","A=2"]"#), "list order is meaningful and kept")
        XCTAssertTrue(text.contains(#""rootfs":{"diff_ids":["sha256:"#))
    }

    func testDigestParsing() throws {
        XCTAssertEqual(try Digest(parsing: "sha256:" + String(repeating: "0", count: 64)).algorithm, "sha256")
        for bad in ["sha256:abc", "md5:" + String(repeating: "0", count: 32), "sha256:" + String(repeating: "G", count: 64), "nocolon"] {
            XCTAssertThrowsError(try Digest(parsing: bad), bad)
        }
    }

    func testDecodesDockerConfigFieldsAndIgnoresUnknownOnes() throws {
        let json = #"{"architecture":"amd64","os":"linux","docker_version":"20","config":{"Env":["PYTHON_VERSION=3.11.7"],"ExposedPorts":{"8080/tcp":{}},"Healthcheck":{"Test":["NONE"]}},"rootfs":{"type":"layers","diff_ids":[]}}"#
        let config = try CanonicalJSON.decode(ImageConfig.self, from: Array(json.utf8), source: "test")
        XCTAssertEqual(config.config?.environmentValue("PYTHON_VERSION"), "3.11.7")
        XCTAssertEqual(config.config?.ExposedPorts?.keys.sorted(), ["8080/tcp"])
    }

    func testInvalidJSONNamesTheSource() {
        XCTAssertThrowsError(try CanonicalJSON.decode(ImageIndex.self, from: Array("{}".utf8), source: "index.json")) { error in
            XCTAssertTrue("\(error)".contains("index.json"))
            XCTAssertTrue("\(error)".contains("missing field"), "\(error)")
        }
    }

    func testPlatformParsing() throws {
        XCTAssertEqual(try Platform(parsing: "linux/arm64/v8"), Platform(architecture: "arm64", os: "linux", variant: "v8"))
        XCTAssertThrowsError(try Platform(parsing: "linux"))
    }
}
