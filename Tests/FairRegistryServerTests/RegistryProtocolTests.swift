import FairArchive
import FairOCI
import FairRegistryServer
import Foundation
import XCTest

/// The distribution API spoken directly over HTTP.
final class RegistryProtocolTests: XCTestCase {
    var root = ""
    var server: TestServer!

    override func setUp() async throws {
        root = try makeTemporaryDirectory("protocol")
        server = try await TestServer.start(root: root)
    }

    override func tearDown() async throws {
        await server?.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    func testBaseEndpointAndErrors() async throws {
        let base = try await server.send("GET", "/v2/")
        XCTAssertEqual(base.status, 200)
        XCTAssertEqual(base.text, "{}")
        XCTAssertEqual(base.header("Docker-Distribution-API-Version"), "registry/2.0")

        let unknownRepository = try await server.send("GET", "/v2/team/app/manifests/v1")
        XCTAssertEqual(unknownRepository.status, 404)
        XCTAssertEqual(unknownRepository.errorCodes, ["NAME_UNKNOWN"])

        let badName = try await server.send("GET", "/v2/Team/App/manifests/v1")
        XCTAssertEqual(badName.status, 400)
        XCTAssertEqual(badName.errorCodes, ["NAME_INVALID"])

        let badDigest = try await server.send("HEAD", "/v2/team/app/blobs/sha256:1234")
        XCTAssertEqual(badDigest.status, 400)

        let unknownBlob = try await server.send("GET", "/v2/team/app/blobs/\(Digest.sha256(of: [1, 2, 3]))")
        XCTAssertEqual(unknownBlob.status, 404)
        XCTAssertEqual(unknownBlob.errorCodes, ["BLOB_UNKNOWN"])

        let unknownSession = try await server.send("GET", "/v2/team/app/blobs/uploads/0b6bd0bb-0000-4000-8000-000000000000")
        XCTAssertEqual(unknownSession.status, 404)
        XCTAssertEqual(unknownSession.errorCodes, ["BLOB_UPLOAD_UNKNOWN"])

        let wrongMethod = try await server.send("POST", "/v2/team/app/manifests/v1")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.errorCodes, ["UNSUPPORTED"])

        // Other paths are left to other routes (here, the test responder's plain 404).
        let notRegistry = try await server.send("GET", "/v2x/healthz")
        XCTAssertEqual(notRegistry.status, 404)
        XCTAssertNil(notRegistry.header("Docker-Distribution-API-Version"))
    }

    func testMonolithicUpload() async throws {
        let bytes = randomBytes(100_000)
        let digest = Digest.sha256(of: bytes)
        let put = try await server.send("POST", "/v2/team/app/blobs/uploads/?digest=\(digest)", body: Data(bytes))
        XCTAssertEqual(put.status, 201, put.text)
        XCTAssertEqual(put.header("Location"), "/v2/team/app/blobs/\(digest)")
        XCTAssertEqual(put.header("Docker-Content-Digest"), digest.description)

        let head = try await server.send("HEAD", "/v2/team/app/blobs/\(digest)")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "100000")
        XCTAssertEqual(head.header("Docker-Content-Digest"), digest.description)
        XCTAssertEqual(head.header("Content-Type"), "application/octet-stream")
        XCTAssertTrue(head.body.isEmpty)

        let get = try await server.send("GET", "/v2/team/app/blobs/\(digest)")
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(Array(get.body), bytes)

        let partial = try await server.send("GET", "/v2/team/app/blobs/\(digest)", headers: ["Range": "bytes=10-19"])
        XCTAssertEqual(partial.status, 206)
        XCTAssertEqual(Array(partial.body), Array(bytes[10...19]))
        XCTAssertEqual(partial.header("Content-Range"), "bytes 10-19/100000")

        let unsatisfiable = try await server.send("GET", "/v2/team/app/blobs/\(digest)", headers: ["Range": "bytes=100000-"])
        XCTAssertEqual(unsatisfiable.status, 416)

        // Another repository has not linked it…
        let elsewhere = try await server.send("HEAD", "/v2/team/other/blobs/\(digest)")
        XCTAssertEqual(elsewhere.status, 404)
        // …until it mounts it (from anywhere: the store is content-addressed).
        let mount = try await server.send("POST", "/v2/team/other/blobs/uploads/?mount=\(digest)&from=team/app")
        XCTAssertEqual(mount.status, 201)
        XCTAssertEqual(mount.header("Docker-Content-Digest"), digest.description)
        let mounted = try await server.send("HEAD", "/v2/team/other/blobs/\(digest)")
        XCTAssertEqual(mounted.status, 200)

        // A mount of something the registry lacks opens an ordinary session.
        let missing = Digest.sha256(of: [9, 9, 9])
        let fallback = try await server.send("POST", "/v2/team/other/blobs/uploads/?mount=\(missing)&from=team/app")
        XCTAssertEqual(fallback.status, 202)
        XCTAssertNotNil(fallback.header("Location"))

        let delete = try await server.send("DELETE", "/v2/team/other/blobs/\(digest)")
        XCTAssertEqual(delete.status, 202)
        let gone = try await server.send("HEAD", "/v2/team/other/blobs/\(digest)")
        XCTAssertEqual(gone.status, 404)
        let stillThere = try await server.send("HEAD", "/v2/team/app/blobs/\(digest)")
        XCTAssertEqual(stillThere.status, 200)

        // The empty blob is a blob too.
        let empty = Digest.sha256(of: [])
        let emptyPut = try await server.send("POST", "/v2/team/app/blobs/uploads/?digest=\(empty)")
        XCTAssertEqual(emptyPut.status, 201)
        let emptyGet = try await server.send("GET", "/v2/team/app/blobs/\(empty)")
        XCTAssertEqual(emptyGet.status, 200)
        XCTAssertEqual(emptyGet.header("Content-Length"), "0")
    }

    func testChunkedUpload() async throws {
        let bytes = randomBytes(300_000)
        let digest = Digest.sha256(of: bytes)
        let start = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        XCTAssertEqual(start.status, 202)
        XCTAssertEqual(start.header("Range"), "0-0")
        let id = try XCTUnwrap(start.header("Docker-Upload-UUID"))
        var location = try XCTUnwrap(start.header("Location"))
        XCTAssertEqual(location, "/v2/team/app/blobs/uploads/\(id)")

        let first = try await server.send("PATCH", location, headers: ["Content-Range": "0-99999", "Content-Type": "application/octet-stream"],
                                          body: Data(bytes[0..<100_000]))
        XCTAssertEqual(first.status, 202, first.text)
        XCTAssertEqual(first.header("Range"), "0-99999")
        location = try XCTUnwrap(first.header("Location"))

        // Out of order: the registry says where it stands.
        let skipped = try await server.send("PATCH", location, headers: ["Content-Range": "200000-299999"], body: Data(bytes[200_000...]))
        XCTAssertEqual(skipped.status, 416)
        XCTAssertEqual(skipped.header("Range"), "0-99999")

        // A chunk whose length disagrees with its range is refused and leaves nothing behind.
        let short = try await server.send("PATCH", location, headers: ["Content-Range": "100000-199999"], body: Data(bytes[100_000..<150_000]))
        XCTAssertEqual(short.status, 416)

        let status = try await server.send("GET", location)
        XCTAssertEqual(status.status, 204)
        XCTAssertEqual(status.header("Range"), "0-99999")

        // Without Content-Range (a streamed PATCH, as skopeo sends).
        let second = try await server.send("PATCH", location, body: Data(bytes[100_000..<200_000]))
        XCTAssertEqual(second.status, 202)
        XCTAssertEqual(second.header("Range"), "0-199999")

        let close = try await server.send("PUT", "\(location)?digest=\(digest)", headers: ["Content-Range": "200000-299999"],
                                          body: Data(bytes[200_000...]))
        XCTAssertEqual(close.status, 201, close.text)
        XCTAssertEqual(close.header("Docker-Content-Digest"), digest.description)

        let get = try await server.send("GET", "/v2/team/app/blobs/\(digest)")
        XCTAssertEqual(Array(get.body), bytes)
        let closed = try await server.send("GET", location)
        XCTAssertEqual(closed.status, 404)
        XCTAssertEqual(closed.errorCodes, ["BLOB_UPLOAD_UNKNOWN"])

        // Cancelling a session.
        let other = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        let otherLocation = try XCTUnwrap(other.header("Location"))
        let cancel = try await server.send("DELETE", otherLocation)
        XCTAssertEqual(cancel.status, 204)
        let cancelled = try await server.send("PATCH", otherLocation, body: Data([1]))
        XCTAssertEqual(cancelled.status, 404)

        // A session belongs to its repository.
        let foreign = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        let foreignID = try XCTUnwrap(foreign.header("Docker-Upload-UUID"))
        let hijack = try await server.send("GET", "/v2/team/other/blobs/uploads/\(foreignID)")
        XCTAssertEqual(hijack.status, 404)
    }

    func testConcurrentUploads() async throws {
        let shared = randomBytes(200_000)
        let sharedDigest = Digest.sha256(of: shared)
        let server = self.server!
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask {
                    let repository = "team/r\(index % 3)"
                    if index % 2 == 0 {
                        return try await server.send("POST", "/v2/\(repository)/blobs/uploads/?digest=\(sharedDigest)", body: Data(shared)).status
                    }
                    let start = try await server.send("POST", "/v2/\(repository)/blobs/uploads/")
                    guard let location = start.header("Location") else { return start.status }
                    _ = try await server.send("PATCH", location, headers: ["Content-Range": "0-99999"], body: Data(shared[..<100_000]))
                    _ = try await server.send("PATCH", location, headers: ["Content-Range": "100000-199999"], body: Data(shared[100_000...]))
                    return try await server.send("PUT", "\(location)?digest=\(sharedDigest)").status
                }
            }
            var statuses: [Int] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        XCTAssertEqual(statuses, Array(repeating: 201, count: 12))
        for index in 0..<3 {
            let get = try await server.send("GET", "/v2/team/r\(index)/blobs/\(sharedDigest)")
            XCTAssertEqual(Array(get.body), shared)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/uploads"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256"), [sharedDigest.encoded])
    }

    func testDigestMismatchIsNeverCommitted() async throws {
        let bytes = randomBytes(50_000)
        let claimed = Digest.sha256(of: Array(bytes.dropLast()))
        let actual = Digest.sha256(of: bytes)

        let monolithic = try await server.send("POST", "/v2/team/app/blobs/uploads/?digest=\(claimed)", body: Data(bytes))
        XCTAssertEqual(monolithic.status, 400)
        XCTAssertEqual(monolithic.errorCodes, ["DIGEST_INVALID"])
        for digest in [claimed, actual] {
            let head = try await server.send("HEAD", "/v2/team/app/blobs/\(digest)")
            XCTAssertEqual(head.status, 404)
        }

        let start = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        let location = try XCTUnwrap(start.header("Location"))
        _ = try await server.send("PATCH", location, body: Data(bytes))
        let close = try await server.send("PUT", "\(location)?digest=\(claimed)")
        XCTAssertEqual(close.status, 400)
        XCTAssertEqual(close.errorCodes, ["DIGEST_INVALID"])
        let session = try await server.send("GET", location)
        XCTAssertEqual(session.status, 404)
        for digest in [claimed, actual] {
            let head = try await server.send("HEAD", "/v2/team/app/blobs/\(digest)")
            XCTAssertEqual(head.status, 404)
        }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256")
        XCTAssertEqual(blobs, [])
        let uploads = try FileManager.default.contentsOfDirectory(atPath: root + "/uploads")
        XCTAssertEqual(uploads, [])

        let noDigest = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        let noDigestClose = try await server.send("PUT", try XCTUnwrap(noDigest.header("Location")), body: Data([1]))
        XCTAssertEqual(noDigestClose.status, 400)
        XCTAssertEqual(noDigestClose.errorCodes, ["DIGEST_INVALID"])
    }

    func testManifestsTagsAndCatalog() async throws {
        let layer = randomBytes(1000)
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}}"#.utf8)
        let manifest = try CanonicalJSON.encode(ImageManifest(
            config: Descriptor(mediaType: FairOCI.MediaType.imageConfig, digest: Digest.sha256(of: config), size: Int64(config.count)),
            layers: [Descriptor(mediaType: FairOCI.MediaType.layerTar, digest: Digest.sha256(of: layer), size: Int64(layer.count))]))
        let manifestDigest = Digest.sha256(of: manifest)
        let contentType = ["Content-Type": FairOCI.MediaType.imageManifest]

        // Nothing uploaded yet: the manifest references unknown blobs.
        let early = try await server.send("PUT", "/v2/team/app/manifests/v1", headers: contentType, body: Data(manifest))
        XCTAssertEqual(early.status, 400)
        XCTAssertEqual(early.errorCodes, ["MANIFEST_BLOB_UNKNOWN"])

        for blob in [layer, config] {
            let put = try await server.send("POST", "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: blob))", body: Data(blob))
            XCTAssertEqual(put.status, 201)
        }
        let invalid = try await server.send("PUT", "/v2/team/app/manifests/v1", headers: contentType, body: Data("{not json".utf8))
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.errorCodes, ["MANIFEST_INVALID"])
        let wrongDigest = try await server.send("PUT", "/v2/team/app/manifests/\(Digest.sha256(of: [1]))", headers: contentType, body: Data(manifest))
        XCTAssertEqual(wrongDigest.status, 400)
        XCTAssertEqual(wrongDigest.errorCodes, ["DIGEST_INVALID"])
        let badTag = try await server.send("PUT", "/v2/team/app/manifests/-v1", headers: contentType, body: Data(manifest))
        XCTAssertEqual(badTag.status, 400)
        XCTAssertEqual(badTag.errorCodes, ["TAG_INVALID"])

        for tag in ["v1", "v2", "latest", "a.b_c-d"] {
            let put = try await server.send("PUT", "/v2/team/app/manifests/\(tag)", headers: contentType, body: Data(manifest))
            XCTAssertEqual(put.status, 201, put.text)
            XCTAssertEqual(put.header("Docker-Content-Digest"), manifestDigest.description)
            XCTAssertEqual(put.header("Location"), "/v2/team/app/manifests/\(manifestDigest)")
        }
        for reference in ["v1", manifestDigest.description] {
            let get = try await server.send("GET", "/v2/team/app/manifests/\(reference)")
            XCTAssertEqual(get.status, 200)
            XCTAssertEqual(Array(get.body), manifest)
            XCTAssertEqual(get.header("Content-Type"), FairOCI.MediaType.imageManifest)
            XCTAssertEqual(get.header("Docker-Content-Digest"), manifestDigest.description)
            let head = try await server.send("HEAD", "/v2/team/app/manifests/\(reference)")
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.header("Content-Length"), String(manifest.count))
        }
        let unknownTag = try await server.send("GET", "/v2/team/app/manifests/nope")
        XCTAssertEqual(unknownTag.status, 404)
        XCTAssertEqual(unknownTag.errorCodes, ["MANIFEST_UNKNOWN"])

        // An index referencing the manifest, put by digest.
        let index = try CanonicalJSON.encode(ImageIndex(manifests: [
            Descriptor(mediaType: FairOCI.MediaType.imageManifest, digest: manifestDigest, size: Int64(manifest.count), platform: .linuxAMD64),
        ]))
        let indexDigest = Digest.sha256(of: index)
        let indexPut = try await server.send("PUT", "/v2/team/app/manifests/\(indexDigest)",
                                             headers: ["Content-Type": FairOCI.MediaType.imageIndex], body: Data(index))
        XCTAssertEqual(indexPut.status, 201, indexPut.text)
        let indexGet = try await server.send("GET", "/v2/team/app/manifests/\(indexDigest)")
        XCTAssertEqual(indexGet.header("Content-Type"), FairOCI.MediaType.imageIndex)
        let orphanIndex = try await server.send("PUT", "/v2/team/other/manifests/multi",
                                                headers: ["Content-Type": FairOCI.MediaType.imageIndex], body: Data(index))
        XCTAssertEqual(orphanIndex.status, 400)
        XCTAssertEqual(orphanIndex.errorCodes, ["MANIFEST_BLOB_UNKNOWN"])

        let tags = try await server.send("GET", "/v2/team/app/tags/list")
        XCTAssertEqual(tags.status, 200)
        XCTAssertEqual(tags.text, #"{"name":"team/app","tags":["a.b_c-d","latest","v1","v2"]}"#)
        let page = try await server.send("GET", "/v2/team/app/tags/list?n=2")
        XCTAssertEqual(page.text, #"{"name":"team/app","tags":["a.b_c-d","latest"]}"#)
        XCTAssertEqual(page.header("Link"), #"</v2/team/app/tags/list?last=latest&n=2>; rel="next""#)
        let next = try await server.send("GET", "/v2/team/app/tags/list?last=latest&n=2")
        XCTAssertEqual(next.text, #"{"name":"team/app","tags":["v1","v2"]}"#)
        XCTAssertNil(next.header("Link"))
        let noTags = try await server.send("GET", "/v2/nobody/tags/list")
        XCTAssertEqual(noTags.status, 404)
        XCTAssertEqual(noTags.errorCodes, ["NAME_UNKNOWN"])

        let layerDigest = Digest.sha256(of: layer)
        _ = try await server.send("POST", "/v2/team/app/x/blobs/uploads/?mount=\(layerDigest)&from=team/app")
        _ = try await server.send("POST", "/v2/solo/blobs/uploads/?mount=\(layerDigest)&from=team/app")
        let catalog = try await server.send("GET", "/v2/_catalog")
        XCTAssertEqual(catalog.text, #"{"repositories":["solo","team/app","team/app/x"]}"#)
        let catalogPage = try await server.send("GET", "/v2/_catalog?n=1&last=solo")
        XCTAssertEqual(catalogPage.text, #"{"repositories":["team/app"]}"#)

        // Deleting a tag, then the manifest by digest (which takes its remaining tags along).
        let deleteTag = try await server.send("DELETE", "/v2/team/app/manifests/v2")
        XCTAssertEqual(deleteTag.status, 202)
        let deleteManifest = try await server.send("DELETE", "/v2/team/app/manifests/\(manifestDigest)")
        XCTAssertEqual(deleteManifest.status, 202)
        let afterDelete = try await server.send("GET", "/v2/team/app/manifests/v1")
        XCTAssertEqual(afterDelete.status, 404)
        let remaining = try await server.send("GET", "/v2/team/app/tags/list")
        XCTAssertEqual(remaining.text, #"{"name":"team/app","tags":[]}"#)
    }

    func testUnauthorized() async throws {
        let guarded = try makeTemporaryDirectory("auth")
        defer { try? FileManager.default.removeItem(atPath: guarded) }
        let seen = SeenRequests()
        let secured = try await TestServer.start(root: guarded) { method, path, authorization in
            seen.append("\(method) \(path)")
            return authorization == "Bearer secret"
        }
        do {
            let denied = try await secured.curl("GET", "/v2/")
            XCTAssertEqual(denied.status, 401)
            XCTAssertEqual(denied.header("WWW-Authenticate"), #"Basic realm="fair""#)
            XCTAssertEqual(denied.errorCodes, ["UNAUTHORIZED"])
            let deniedUpload = try await secured.curl("POST", "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: [1]))",
                                                      headers: ["Authorization": "Bearer wrong"], body: Data([1]))
            XCTAssertEqual(deniedUpload.status, 401)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: guarded + "/blobs/sha256"), [])
            let allowed = try await secured.curl("GET", "/v2/", headers: ["Authorization": "Bearer secret"])
            XCTAssertEqual(allowed.status, 200)
            XCTAssertEqual(seen.all, ["GET /v2/", "POST /v2/team/app/blobs/uploads/", "GET /v2/"])
        }
        await secured.stop()
    }

    func testRestartKeepsBlobsTagsAndSessions() async throws {
        let blob = randomBytes(10_000)
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}}"#.utf8)
        let manifest = try CanonicalJSON.encode(ImageManifest(
            config: Descriptor(mediaType: FairOCI.MediaType.imageConfig, digest: Digest.sha256(of: config), size: Int64(config.count)),
            layers: [Descriptor(mediaType: FairOCI.MediaType.layerTar, digest: Digest.sha256(of: blob), size: Int64(blob.count))]))
        for bytes in [blob, config] {
            _ = try await server.send("POST", "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: bytes))", body: Data(bytes))
        }
        let put = try await server.send("PUT", "/v2/team/app/manifests/v1", headers: ["Content-Type": FairOCI.MediaType.imageManifest],
                                        body: Data(manifest))
        XCTAssertEqual(put.status, 201)
        // A chunked upload half done when the process stops.
        let pending = randomBytes(20_000)
        let start = try await server.send("POST", "/v2/team/app/blobs/uploads/")
        let location = try XCTUnwrap(start.header("Location"))
        _ = try await server.send("PATCH", location, body: Data(pending[..<12_000]))

        await server.stop()
        server = try await TestServer.start(root: root)

        let get = try await server.send("GET", "/v2/team/app/manifests/v1")
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(Array(get.body), manifest)
        let head = try await server.send("HEAD", "/v2/team/app/blobs/\(Digest.sha256(of: blob))")
        XCTAssertEqual(head.status, 200)
        let tags = try await server.send("GET", "/v2/team/app/tags/list")
        XCTAssertEqual(tags.text, #"{"name":"team/app","tags":["v1"]}"#)
        // The session resumes; its first part is hashed from the file when it is closed.
        let status = try await server.send("GET", location)
        XCTAssertEqual(status.header("Range"), "0-11999")
        let close = try await server.send("PUT", "\(location)?digest=\(Digest.sha256(of: pending))",
                                          headers: ["Content-Range": "12000-19999"], body: Data(pending[12_000...]))
        XCTAssertEqual(close.status, 201, close.text)
        let fetched = try await server.send("GET", "/v2/team/app/blobs/\(Digest.sha256(of: pending))")
        XCTAssertEqual(Array(fetched.body), pending)
    }
}

final class SeenRequests: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func append(_ entry: String) { lock.lock(); entries.append(entry); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return entries }
}
