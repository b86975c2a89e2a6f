import FairArchive
import Foundation

/// Adds images to an OCI image layout directory, creating it when needed. Blobs already present
/// are kept; each new blob and the updated `index.json` appear through a rename, so a reader never
/// sees a partial file and an interrupted write leaves the layout as it was.
public enum OCILayoutWriter {
    public static func add(_ image: ImageToWrite, to directory: String) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw OCIError.notAnImage(source: "oci:\(directory)", reason: "exists and is not a directory")
            }
            let entries = (try? fileManager.contentsOfDirectory(atPath: directory)) ?? []
            if !entries.isEmpty && !fileManager.fileExists(atPath: directory + "/oci-layout") {
                throw OCIError.notAnImage(
                    source: "oci:\(directory)", reason: "the directory is not empty and has no oci-layout file; refusing to write into it")
            }
        }
        let blobDirectory = directory + "/blobs/sha256"
        do {
            try fileManager.createDirectory(atPath: blobDirectory, withIntermediateDirectories: true)
        } catch {
            throw OCIError.notAnImage(source: "oci:\(directory)", reason: "cannot create it: \(error.localizedDescription)")
        }
        if !fileManager.fileExists(atPath: directory + "/oci-layout") {
            try AtomicFile.write(to: directory + "/oci-layout", bytes: ociLayoutFileBytes)
        }
        for blob in image.uniqueBlobsByDigest {
            let path = "\(directory)/blobs/\(blob.digest.algorithm)/\(blob.digest.encoded)"
            if fileManager.fileExists(atPath: path) { continue }
            try AtomicFile.write(to: path) { temporaryPath in
                let sink = try FileSink(path: temporaryPath)
                try copyBlob(blob, to: sink, name: "oci:\(directory)")
                try sink.finish()
            }
        }
        var index = (try? OCILayoutReader(directory: directory).rootIndex()) ?? ImageIndex(manifests: [])
        let tag = image.manifest.annotations?[AnnotationKey.refName]
        // A tag names one image: the new one replaces whatever carried it before.
        index.manifests.removeAll { existing in
            tag != nil && existing.annotations?[AnnotationKey.refName] == tag
        }
        index.manifests.append(image.manifest)
        try AtomicFile.write(to: directory + "/index.json", bytes: try CanonicalJSON.encode(index))
    }
}
