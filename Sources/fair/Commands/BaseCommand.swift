import ArgumentParser
import FairBuild
import Foundation

struct BaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "base",
        abstract: "Make base images.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a minimal Debian base image with python3 (debootstrap, needs root).")

        @Option(name: [.customShort("o"), .long], help: "Where to write the oci-archive.")
        var output: String

        @Option(help: "Extra Debian packages, comma-separated (e.g. python3-numpy).")
        var packages: String?

        @Option(help: "Debian suite.")
        var suite: String = "bookworm"

        @Option(help: "Debian mirror (default: the machine's apt source, else deb.debian.org).")
        var mirror: String?

        @Option(name: [.customShort("t"), .long], help: "Image name and tag.")
        var tag: String = "fair-base:bookworm"

        func run() throws {
            Interrupts.install()
            try reportingFailures {
                var options = BaseImageOptions(output: output, tag: try ImageTag(parsing: tag))
                options.suite = suite
                options.mirror = mirror
                options.extraPackages = (packages ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                options.epoch = try BuildOptions.epoch(from: ProcessInfo.processInfo.environment)
                let result = try BaseImageCreator(options: options, log: Console.progress).create()
                Console.progress("created \(result.tag) (Python \(result.pythonVersion), \(Console.humanSize(result.layerSize)) layer) at oci-archive:\(result.output)")
                Console.result(result.digest)
            }
        }
    }
}
