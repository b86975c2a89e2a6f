import ArgumentParser
import FairBuild
import FairOCI
import FairRegistry
import Foundation

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry into an oci-archive or OCI layout.",
        discussion: """
        Every blob is verified against its digest and kept in fair's content store ($FAIR_HOME), \
        which builds share. Without --output or --layout the image goes to fair's local layout.
        """)

    @Argument(help: "HOST[:PORT]/REPOSITORY[:TAG|@DIGEST].")
    var reference: String

    @Option(name: [.customShort("o"), .long], help: "Write an oci-archive to this path.")
    var output: String?

    @Option(help: "Add the image to this OCI layout directory.")
    var layout: String?

    @Option(help: "Platform to pick from a multi-platform image (os/arch[/variant]).")
    var platform: String = "linux/amd64"

    @OptionGroup var registry: RegistryOptions

    @Option(help: "Output format: text or json.")
    var outputFormat: OutputFormat = .text

    @Flag(name: [.customShort("q"), .long], help: "Print only the digest.")
    var quiet = false

    struct Report: Encodable {
        var reference: String
        var digest: Digest
        var mediaType: String
        var platform: String
        var layers: [Descriptor]
        var outputs: BuildResult.Outputs
    }

    func run() throws {
        Interrupts.install()
        try reportingFailures {
            let parsed = try RegistryReference(parsing: reference)
            let wanted = try Platform(parsing: platform)
            let home = FairHome()
            let display = TransferDisplay(verb: "pulling", quiet: quiet || outputFormat == .json)
            let puller = try registry.clients(home: home).puller(for: parsed.host, events: display.handle)
            let pulled = try puller.resolve(parsed, platform: wanted)
            let layers: [Digest: String]
            do {
                layers = try puller.fetchLayers(pulled)
            } catch {
                display.finish()
                throw error
            }
            var named = parsed
            named.digest = nil
            if named.tag == nil { named.tag = parsed.digest == nil ? "latest" : nil }
            let image = puller.imageToWrite(pulled, layers: layers, tag: named.description)
            let cwd = FileManager.default.currentDirectoryPath
            let archivePath = output.map { ImageBuilder.realPath($0, relativeTo: cwd) }
            var layoutPath = layout.map { ImageBuilder.realPath($0, relativeTo: cwd) }
            if archivePath == nil && layoutPath == nil { layoutPath = home.images }
            if let archivePath { try OCIArchiveWriter.write(image, to: archivePath, mtime: BuildOptions.defaultEpoch) }
            if let layoutPath { try OCILayoutWriter.add(image, to: layoutPath) }
            let pinned = parsed.withDigest(pulled.manifestDigest.description)
            switch outputFormat {
            case .json:
                Console.result(try prettyJSON(Report(
                    reference: pinned.description, digest: pulled.manifestDigest, mediaType: pulled.manifestMediaType,
                    platform: wanted.description, layers: pulled.manifest.layers,
                    outputs: .init(archive: archivePath, layout: layoutPath))))
            case .text:
                if !quiet {
                    Console.progress("pulled \(pinned)")
                    if let archivePath { Console.progress("wrote oci-archive:\(archivePath)") }
                    if let layoutPath { Console.progress("added to oci:\(layoutPath):\(named.description)") }
                }
                Console.result(pulled.manifestDigest.description)
            }
        }
    }
}
