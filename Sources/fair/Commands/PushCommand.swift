import ArgumentParser
import FairArchive
import FairBuild
import FairOCI
import FairRegistry
import Foundation

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image from an oci-archive or OCI layout to a registry.",
        discussion: """
        SOURCE is an oci-archive (a path, or oci-archive:PATH[:REF]) or an OCI layout (a directory, \
        or oci:DIR[:REF]). Blobs the registry already has are not sent; blobs in another repository \
        of the same registry are mounted. Credentials come from the docker config (fair login).
        """)

    @Argument(help: "The image to push.")
    var source: String

    @Argument(help: "Where to push it: HOST[:PORT]/REPOSITORY[:TAG].")
    var destination: String

    @OptionGroup var registry: RegistryOptions

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    @Flag(name: [.customShort("q"), .long], help: "Print only the pushed reference.")
    var quiet = false

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            var reference = try RegistryReference(parsing: destination)
            let (reader, refName) = try openSource(source)
            let resolved = try reader.resolveImage(tag: refName)
            if reference.tag == nil && reference.digest == nil {
                reference.tag = Self.tag(fromRefName: resolved.refName) ?? "latest"
            }
            let image = try Self.imageToPush(resolved, reader: reader)
            let display = TransferDisplay(verb: "pushing", quiet: quiet || outputFormat == .json)
            let clients = registry.clients()
            let report: ImagePusher.Report
            do {
                report = try clients.pusher(for: reference.host, events: display.handle).push(image, to: reference)
            } catch {
                display.finish()
                throw error
            }
            switch outputFormat {
            case .json: Console.result(try prettyJSON(report))
            case .text: Console.result(report.reference)
            }
        }
    }

    private func openSource(_ text: String) throws -> (BlobReader, String?) {
        var isDirectory: ObjCBool = false
        if !text.hasPrefix("oci:") && !text.hasPrefix("oci-archive:") {
            guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) else {
                throw BuildError.invalidOption(option: "SOURCE", message: "\(text) does not exist")
            }
            return (isDirectory.boolValue ? try OCILayoutReader(directory: text) : try OCIArchiveReader(path: text), nil)
        }
        switch try ImageReference.parse(text, relativeTo: FileManager.default.currentDirectoryPath) {
        case let .layout(directory, tag): return (try OCILayoutReader(directory: directory), tag)
        case let .archive(path, tag):
            guard FileManager.default.fileExists(atPath: path) else {
                throw BuildError.invalidOption(option: "SOURCE", message: "\(path) does not exist")
            }
            return (try OCIArchiveReader(path: path), tag)
        default: throw BuildError.invalidOption(option: "SOURCE", message: "\(text) is not an oci-archive or OCI layout")
        }
    }

    /// The tag part of an image's `ref.name` (`name:tag` → `tag`), when it has one.
    static func tag(fromRefName refName: String?) -> String? {
        guard let refName else { return nil }
        if let colon = refName.lastIndex(of: ":"), !refName[refName.index(after: colon)...].contains("/") {
            return String(refName[refName.index(after: colon)...])
        }
        return refName.contains("/") ? nil : refName
    }

    /// Every blob of a local image, streamed from its byte range in the archive or layout.
    static func imageToPush(_ image: ResolvedImage, reader: BlobReader) throws -> ImageToWrite {
        let manifestBytes = try reader.readSmallBlob(image.manifestDigest)
        var blobs = [BlobToWrite(digest: image.manifestDigest, size: Int64(manifestBytes.count), content: .bytes(manifestBytes), verify: false)]
        let ranges = reader as? BlobFileRanges
        for descriptor in [image.manifest.config] + image.manifest.layers {
            let content: BlobContent
            if let range = ranges?.fileRange(of: descriptor.digest) {
                content = .fileRange(range)
            } else {
                content = .stream { sink in try reader.copyBlob(descriptor.digest, to: sink) }
            }
            blobs.append(BlobToWrite(digest: descriptor.digest, size: descriptor.size, content: content, verify: true))
        }
        let mediaType = image.manifest.mediaType ?? MediaType.imageManifest
        return ImageToWrite(manifest: Descriptor(mediaType: mediaType, digest: image.manifestDigest, size: Int64(manifestBytes.count)), blobs: blobs)
    }
}

func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
