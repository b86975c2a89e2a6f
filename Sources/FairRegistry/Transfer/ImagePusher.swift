import FairArchive
import FairHTTP
import FairOCI
import FairSupport
import Foundation

/// Pushes an image: every blob the registry lacks (in parallel), then the manifest under its
/// tag. The manifest goes last, so a push that fails part-way never leaves a tag pointing at
/// missing blobs.
public struct ImagePusher {
    public let client: RegistryClient
    public var jobs: Int
    public var store: BlobStore
    public var events: ((TransferEvent) -> Void)?
    /// Where blobs are known to be on registries, for mounting instead of uploading.
    public var locations: BlobLocations

    public init(client: RegistryClient, jobs: Int = 4, store: BlobStore, events: ((TransferEvent) -> Void)? = nil) {
        self.client = client
        self.jobs = jobs
        self.store = store
        self.events = events
        locations = BlobLocations(store: store)
    }

    public struct Report: Codable, Sendable {
        public struct Blob: Codable, Sendable {
            public var digest: Digest
            public var size: Int64
            /// `exists`, `mounted` or `uploaded`.
            public var action: String
        }
        public var reference: String
        public var digest: Digest
        public var mediaType: String
        public var blobs: [Blob]
        public var bytesUploaded: Int64
    }

    /// `streamed`: blobs already sent while they were built (`StreamedBlobUpload`); they are
    /// still asked for, and reported as uploaded, with their bytes.
    public func push(_ image: ImageToWrite, to reference: RegistryReference, streamed: [Digest: Int64] = [:]) throws -> Report {
        guard let manifestBlob = image.blobs.first(where: { $0.digest == image.manifest.digest }),
              case let .bytes(manifestBytes) = manifestBlob.content else {
            throw RegistryError.unsupported("the image's manifest is missing from what is to be pushed")
        }
        let blobs = image.uniqueBlobsByDigest.filter { $0.digest != image.manifest.digest }
        let repository = reference.repository
        let lock = NSLock()
        var results: [Report.Blob] = []
        let sentBefore = client.blobBytesSent

        try forEachInParallel(blobs, jobs: jobs) { blob in
            var action = try pushBlob(blob, repository: repository)
            if action == "exists" && streamed[blob.digest] != nil { action = "uploaded" }
            lock.lock()
            results.append(.init(digest: blob.digest, size: blob.size, action: action))
            lock.unlock()
        }
        let tagOrDigest = reference.tag ?? reference.digest ?? image.manifest.digest.description
        let digest = try client.putManifest(repository, reference: tagOrDigest, bytes: manifestBytes, mediaType: image.manifest.mediaType)
        let pushed = reference.withDigest(digest.description)
        events?(TransferEvent(digest: digest, size: Int64(manifestBytes.count), kind: .manifest(reference: pushed.description)))
        return Report(reference: pushed.description, digest: digest, mediaType: image.manifest.mediaType,
                      blobs: results.sorted { $0.digest < $1.digest },
                      bytesUploaded: client.blobBytesSent - sentBefore + streamed.values.reduce(0, +))
    }

    private func pushBlob(_ blob: BlobToWrite, repository: String) throws -> String {
        let event = { (kind: TransferEvent.Kind) in events?(TransferEvent(digest: blob.digest, size: blob.size, kind: kind)) }
        event(.started)
        if try client.blobExists(repository, digest: blob.digest) {
            locations.record(blob.digest, on: client.host, repository: repository)
            event(.exists)
            return "exists"
        }
        // A blob of the same registry is linked, not sent: from where the image came from, else
        // from a repository an earlier push or pull of this machine put it in.
        var sources = locations.repositories(holding: blob.digest, on: client.host)
        if case let .remote(remote) = blob.content, remote.host == client.host { sources.insert(remote.repository, at: 0) }
        for source in sources.filter({ $0 != repository }).prefix(3) where try client.mountBlob(repository, digest: blob.digest, from: source) {
            locations.record(blob.digest, on: client.host, repository: repository)
            event(.mounted(from: source))
            return "mounted"
        }
        let body = try uploadBody(for: blob)
        try withBlobRetries {
            try client.uploadBlob(repository, digest: blob.digest, size: blob.size, body: body) { sent in event(.progress(bytes: sent)) }
        }
        locations.record(blob.digest, on: client.host, repository: repository)
        event(.done)
        return "uploaded"
    }

    /// Uploads restart from the beginning when the connection drops or the registry fails: a
    /// half-sent session cannot be trusted, and it has been cancelled by then.
    private func withBlobRetries(_ body: () throws -> Void) throws {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as RegistryError {
                let transient: Bool
                switch error {
                case .unreachable: transient = true
                case let .response(status, _, _, _, _): transient = RetryPolicy.retryableStatuses.contains(status)
                default: transient = false
                }
                attempt += 1
                guard transient, attempt < 3 else { throw error }
                Thread.sleep(forTimeInterval: client.retry.delay(attempt: attempt))
            }
        }
    }

    /// The request body for a blob: straight from its file range where it has one; otherwise it
    /// is first brought into the content store (verified), then sent from there.
    private func uploadBody(for blob: BlobToWrite) throws -> HTTPBody {
        switch blob.content {
        case let .bytes(bytes): return .bytes(bytes)
        case let .file(path): return .file(path: path, offset: 0, length: blob.size)
        case let .fileRange(range): return .file(path: range.path, offset: range.offset, length: range.length)
        case let .stream(produce):
            return .file(path: try materialise(blob, produce), offset: 0, length: blob.size)
        case let .remote(remote):
            return .file(path: try materialise(blob, remote.fetch), offset: 0, length: blob.size)
        }
    }

    private func materialise(_ blob: BlobToWrite, _ produce: @escaping (ByteSink) throws -> Void) throws -> String {
        if let existing = store.existingPath(blob.digest) { return existing }
        return try store.ingest(blob.digest) { temporaryPath in
            let sink = DigestingSink(downstream: try FileSink(path: temporaryPath))
            try produce(sink)
            try sink.finish()
            let actual = Digest.sha256(hex: sink.hexDigest!)
            if actual != blob.digest {
                throw RegistryError.digestMismatch(what: "blob \(blob.digest)", expected: blob.digest.description, actual: actual.description)
            }
        }
    }
}
