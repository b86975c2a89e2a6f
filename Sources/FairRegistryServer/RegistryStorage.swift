import FairArchive
import FairOCI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The registry's files under its root directory:
///
///     blobs/sha256/<hex>                                   content, by digest (manifests too)
///     repositories/<name>/_layers/<hex>                    a blob linked into the repository (holds the digest)
///     repositories/<name>/_manifests/revisions/<hex>       a manifest of the repository (holds its media type)
///     repositories/<name>/_manifests/tags/<tag>            a tag (holds the manifest digest)
///     uploads/<uuid>/repository, uploads/<uuid>/data       an upload session and the bytes received so far
///
/// Every file appears through a rename, so a reader sees a whole file or none. Repository names
/// map onto nested directories; their components never start with `_`, so they cannot collide
/// with the `_layers`/`_manifests` directories.
final class RegistryStorage: @unchecked Sendable {
    let root: String
    let blobsDirectory: String
    let repositoriesDirectory: String
    let uploadsDirectory: String

    init(root: String) throws {
        let standardized = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = standardized
        blobsDirectory = standardized + "/blobs/sha256"
        repositoriesDirectory = standardized + "/repositories"
        uploadsDirectory = standardized + "/uploads"
        for directory in [blobsDirectory, repositoriesDirectory, uploadsDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    // MARK: Blobs

    func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)" }

    /// The size of a blob in the content store, nil when absent.
    func blobSize(_ digest: Digest) -> Int64? { Self.fileSize(blobPath(digest)) }

    /// Moves a verified file into the content store. A blob already there has the same bytes, so
    /// replacing it is harmless and keeps the operation a single rename.
    func commitBlob(from path: String, digest: Digest) throws {
        let destination = blobPath(digest)
        if rename(path, destination) != 0 {
            throw ArchiveError.io(path: destination, operation: "rename into", errno: errno)
        }
    }

    /// Stores bytes held in memory (a manifest) in the content store, unless already there.
    func storeBlob(_ bytes: [UInt8], digest: Digest) throws {
        if blobSize(digest) == Int64(bytes.count) { return }
        try AtomicFile.write(to: blobPath(digest), bytes: bytes)
    }

    func readBlob(_ digest: Digest) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: blobPath(digest))))
    }

    // MARK: Repositories

    func repositoryDirectory(_ name: String) -> String { "\(repositoriesDirectory)/\(name)" }

    /// A repository exists once anything (a blob link or a manifest) was put into it.
    func repositoryExists(_ name: String) -> Bool {
        let directory = repositoryDirectory(name)
        return Self.isDirectory(directory + "/_manifests") || Self.isDirectory(directory + "/_layers")
    }

    private func layerLinkPath(_ name: String, _ digest: Digest) -> String {
        "\(repositoryDirectory(name))/_layers/\(digest.encoded)"
    }

    /// Whether `digest` is linked into `name` and present in the content store; its size if so.
    func linkedBlobSize(_ name: String, _ digest: Digest) -> Int64? {
        guard digest.algorithm == "sha256", Self.fileSize(layerLinkPath(name, digest)) != nil else { return nil }
        return blobSize(digest)
    }

    func linkBlob(_ name: String, _ digest: Digest) throws {
        let path = layerLinkPath(name, digest)
        if Self.fileSize(path) != nil { return }
        try FileManager.default.createDirectory(atPath: "\(repositoryDirectory(name))/_layers", withIntermediateDirectories: true)
        try AtomicFile.write(to: path, bytes: Array(digest.description.utf8))
    }

    /// Removes the repository's link; the content stays for other repositories that link it.
    func unlinkBlob(_ name: String, _ digest: Digest) -> Bool {
        unlink(layerLinkPath(name, digest)) == 0
    }

    // MARK: Manifests and tags

    private func revisionPath(_ name: String, _ digest: Digest) -> String {
        "\(repositoryDirectory(name))/_manifests/revisions/\(digest.encoded)"
    }

    private func tagsDirectory(_ name: String) -> String { "\(repositoryDirectory(name))/_manifests/tags" }

    /// The media type of a manifest of the repository, nil when the repository has no such manifest.
    func manifestMediaType(_ name: String, _ digest: Digest) -> String? {
        guard digest.algorithm == "sha256", let text = Self.readText(revisionPath(name, digest)) else { return nil }
        return text
    }

    func storeManifest(_ name: String, bytes: [UInt8], digest: Digest, mediaType: String, tag: String?) throws {
        try storeBlob(bytes, digest: digest)
        try FileManager.default.createDirectory(atPath: "\(repositoryDirectory(name))/_manifests/revisions", withIntermediateDirectories: true)
        try AtomicFile.write(to: revisionPath(name, digest), bytes: Array(mediaType.utf8))
        if let tag {
            try FileManager.default.createDirectory(atPath: tagsDirectory(name), withIntermediateDirectories: true)
            try AtomicFile.write(to: "\(tagsDirectory(name))/\(tag)", bytes: Array(digest.description.utf8))
        }
    }

    func resolveTag(_ name: String, _ tag: String) -> Digest? {
        guard let text = Self.readText("\(tagsDirectory(name))/\(tag)") else { return nil }
        return try? Digest(parsing: text)
    }

    /// The repository's tags, sorted.
    func tags(_ name: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: tagsDirectory(name))) ?? []
        return entries.filter { Grammar.isTag($0) }.sorted()
    }

    func deleteTag(_ name: String, _ tag: String) -> Bool {
        unlink("\(tagsDirectory(name))/\(tag)") == 0
    }

    /// Deletes a manifest revision and every tag that points at it. False when there was none.
    func deleteManifest(_ name: String, _ digest: Digest) -> Bool {
        guard unlink(revisionPath(name, digest)) == 0 else { return false }
        for tag in tags(name) where resolveTag(name, tag) == digest {
            _ = deleteTag(name, tag)
        }
        return true
    }

    /// Every repository, sorted: the directories under `repositories/` holding `_layers` or `_manifests`.
    func repositories() -> [String] {
        var found: [String] = []
        func walk(_ directory: String, prefix: String) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            if !prefix.isEmpty && (entries.contains("_manifests") || entries.contains("_layers")) {
                found.append(prefix)
            }
            for entry in entries where Grammar.isComponent(entry.utf8) && Self.isDirectory("\(directory)/\(entry)") {
                walk("\(directory)/\(entry)", prefix: prefix.isEmpty ? entry : "\(prefix)/\(entry)")
            }
        }
        walk(repositoriesDirectory, prefix: "")
        return found.sorted()
    }

    // MARK: Upload sessions

    func uploadDirectory(_ id: String) -> String { "\(uploadsDirectory)/\(id)" }
    func uploadDataPath(_ id: String) -> String { "\(uploadsDirectory)/\(id)/data" }

    /// Opens a session for `name`: an empty data file and the repository it belongs to.
    func createUpload(_ name: String) throws -> String {
        let id = UUID().uuidString.lowercased()
        let directory = uploadDirectory(id)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(to: directory + "/repository", bytes: Array(name.utf8))
        try AtomicFile.write(to: uploadDataPath(id), bytes: [])
        return id
    }

    /// The bytes received so far by a session of `name`; nil when there is no such session.
    func uploadSize(_ name: String, _ id: String) -> Int64? {
        guard Grammar.isUploadID(id), Self.readText(uploadDirectory(id) + "/repository") == name else { return nil }
        return Self.fileSize(uploadDataPath(id))
    }

    func deleteUpload(_ id: String) {
        guard Grammar.isUploadID(id) else { return }
        try? FileManager.default.removeItem(atPath: uploadDirectory(id))
    }

    /// Removes upload sessions untouched for `age` seconds, and temporary files a crash left behind.
    func purgeStale(olderThan age: TimeInterval) {
        let limit = Date().addingTimeInterval(-age)
        let fileManager = FileManager.default
        func modified(_ path: String) -> Date? {
            (try? fileManager.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }
        for id in (try? fileManager.contentsOfDirectory(atPath: uploadsDirectory)) ?? [] {
            let directory = uploadDirectory(id)
            if let date = modified(directory + "/data") ?? modified(directory), date < limit {
                try? fileManager.removeItem(atPath: directory)
            }
        }
        for entry in (try? fileManager.contentsOfDirectory(atPath: blobsDirectory)) ?? [] where entry.hasPrefix(".") {
            let path = "\(blobsDirectory)/\(entry)"
            if let date = modified(path), date < limit { try? fileManager.removeItem(atPath: path) }
        }
    }

    // MARK: Files

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func readText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
