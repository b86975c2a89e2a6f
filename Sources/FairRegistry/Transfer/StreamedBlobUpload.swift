import FairArchive
import FairOCI
import Foundation

/// Uploads a blob while it is still being written to a file, so that sending it costs about
/// nothing on top of making it: the writer reports how far the file has grown, a thread of this
/// upload sends each whole chunk as soon as it is there (PATCH with Content-Range, read with
/// pread from a descriptor opened at the start, so the file may be renamed meanwhile), and once
/// the writer knows the digest the rest goes and the session is closed with `?digest=`, where
/// the registry checks it. Memory stays at libcurl's buffers whatever the blob's size.
///
/// A dropped connection is resumed from what the registry says it holds; any other failure, or a
/// writer that gives up, cancels the session, so no blob and no partial upload are left. The
/// pusher that runs after the build asks for each blob anyway (HEAD): a streamed upload that
/// failed is then sent the usual way, or its error reported.
public final class StreamedBlobUpload: @unchecked Sendable {
    public let repository: String
    private let client: RegistryClient
    private let chunkSize: Int64
    private let condition = NSCondition()
    private var descriptor: Int32 = -1
    private var name = ""
    private var written: Int64 = 0
    private var final: (digest: Digest, size: Int64)?
    private var abandoned = false
    private var ended = false
    private var failure: Error?
    private var sent = false
    private var thread: Thread?

    public init(client: RegistryClient, repository: String, chunkSize: Int64 = 4 << 20) {
        self.client = client
        self.repository = repository
        self.chunkSize = chunkSize
    }

    // MARK: - The writer's side

    /// The file the blob is being written to, just created: opened here for reading, and the
    /// upload starts.
    public func opened(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        condition.lock()
        descriptor = fd
        name = path
        if fd < 0 { failure = RegistryError.unsupported("cannot read \(path) to upload it: \(String(cString: strerror(errno)))"); ended = true }
        condition.unlock()
        guard fd >= 0 else { return }
        let thread = Thread { [self] in run() }
        thread.name = "fair-streamed-upload"
        condition.lock()
        self.thread = thread
        condition.unlock()
        thread.start()
    }

    /// The file now holds `size` bytes.
    public func grew(to size: Int64) {
        condition.lock()
        if size / chunkSize != written / chunkSize { condition.broadcast() }  // another whole chunk
        written = size
        condition.unlock()
    }

    /// The writer is done: the blob is `digest`, `size` bytes.
    public func finished(digest: Digest, size: Int64) {
        condition.lock()
        final = (digest, size)
        written = size
        condition.broadcast()
        condition.unlock()
    }

    /// The writer failed: the session is cancelled.
    public func abandon() {
        condition.lock()
        abandoned = true
        if thread == nil && !ended { failure = Abandoned(); ended = true }  // never started
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the upload to end; the blob is in the registry when this returns without error.
    public func wait() throws {
        condition.lock()
        if thread == nil && !ended { failure = Abandoned(); ended = true }  // never opened: nothing was sent
        while !ended { condition.wait() }
        let error = failure
        condition.unlock()
        if let error { throw error }
    }

    /// The blob, once the upload succeeded.
    /// The blob, once this upload sent it (nil for one left to the pusher, or failed).
    public var uploaded: (digest: Digest, size: Int64)? {
        condition.lock()
        defer { condition.unlock() }
        return ended && sent ? final : nil
    }

    // MARK: - The upload's thread

    private func run() {
        var location: String?
        do {
            // A blob smaller than a chunk is left to the pusher, which asks first whether the
            // registry has it: a rebuilt code layer is often the very one already there.
            condition.lock()
            while !abandoned && final == nil && written < chunkSize { condition.wait() }
            let (small, gaveUp) = (final.map { $0.size < chunkSize } ?? false, abandoned)
            condition.unlock()
            if gaveUp { throw Abandoned() }
            if small {
                end(with: nil, sent: false)
                return
            }
            let session = try client.openUpload(repository)
            location = session.location
            let chunk = max(chunkSize, session.minimumChunk)
            var sent: Int64 = 0
            while true {
                condition.lock()
                while !abandoned && final == nil && written - sent < chunk { condition.wait() }
                let (available, done, gaveUp) = (written, final, abandoned)
                condition.unlock()
                if gaveUp { throw Abandoned() }
                // Whole chunks while the file grows; the rest once its end is known.
                let end = done != nil ? available : sent + (available - sent) / chunk * chunk
                while sent < end {
                    let length = min(done != nil ? end - sent : chunk, end - sent)
                    (sent, location) = try append(at: location!, offset: sent, length: length)
                }
                if let done {
                    try client.closeUpload(at: location!, repository: repository, digest: done.digest, body: .empty, length: 0, progress: nil)
                    break
                }
            }
            end(with: nil, sent: true)
        } catch {
            if let location { client.cancelUpload(location, repository: repository) }
            end(with: error, sent: false)
        }
    }

    /// Sends [offset, offset+length); after a dropped connection, asks the session how much it
    /// holds and goes on from there (twice at most).
    private func append(at location: String, offset: Int64, length: Int64) throws -> (Int64, String) {
        var (position, location) = (offset, location)
        var resumes = 0
        while true {
            do {
                let next = try client.appendUpload(at: location, repository: repository, descriptor: descriptor, name: name,
                                                   offset: position, length: offset + length - position)
                return (offset + length, next)
            } catch let error as RegistryError {
                guard case .unreachable = error, resumes < 2,
                      let progress = try? client.uploadProgress(at: location, repository: repository),
                      progress.received >= offset, progress.received <= offset + length else { throw error }
                resumes += 1
                (position, location) = (progress.received, progress.location)
                if position == offset + length { return (position, location) }
            }
        }
    }

    private func end(with error: Error?, sent: Bool) {
        condition.lock()
        failure = error
        self.sent = sent
        ended = true
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        condition.broadcast()
        condition.unlock()
    }

    private struct Abandoned: Error, CustomStringConvertible {
        var description: String { "the layer was not finished" }
    }
}
