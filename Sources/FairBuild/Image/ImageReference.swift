import FairOCI
import FairRegistry
import Foundation

/// A base image reference as written on the command line or in fair.yaml:
/// `scratch`, `oci:DIR[:TAG]`, `oci-archive:PATH[:TAG]`, or a registry reference
/// (`[docker://]HOST/REPO[:TAG][@DIGEST]`).
public enum ImageReference: Equatable, Sendable {
    case scratch
    case layout(directory: String, tag: String?)
    case archive(path: String, tag: String?)
    case registry(RegistryReference)

    /// Parses `text`, resolving relative paths against `baseDirectory`.
    public static func parse(_ text: String, relativeTo baseDirectory: String) throws -> ImageReference {
        if text == "scratch" { return .scratch }
        if text.hasPrefix("oci-archive:") {
            let (path, tag) = splitTag(String(text.dropFirst("oci-archive:".count)))
            guard !path.isEmpty else { throw BuildError.invalidBase(reference: text, reason: "no archive path after oci-archive:") }
            return .archive(path: absolute(path, baseDirectory), tag: tag)
        }
        if text.hasPrefix("oci:") {
            let (path, tag) = splitTag(String(text.dropFirst("oci:".count)))
            guard !path.isEmpty else { throw BuildError.invalidBase(reference: text, reason: "no directory after oci:") }
            return .layout(directory: absolute(path, baseDirectory), tag: tag)
        }
        do {
            return .registry(try RegistryReference(parsing: text))
        } catch let error as RegistryError {
            throw BuildError.invalidBase(
                reference: text,
                reason: "\(error.description); a base is scratch, oci:DIR[:TAG], oci-archive:PATH[:TAG] or a registry reference like registry.example/team/python:3.11")
        }
    }

    /// Splits `PATH:REF` at the first colon, as skopeo's oci and oci-archive transports do, so the
    /// reference may itself be `name:tag` (paths containing colons are not supported, as there).
    static func splitTag(_ text: String) -> (String, String?) {
        guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
        let tag = String(text[text.index(after: colon)...])
        return (String(text[..<colon]), tag.isEmpty ? nil : tag)
    }

    private static func absolute(_ path: String, _ baseDirectory: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
        return url.standardizedFileURL.path
    }

    /// Opens the source, checking it exists and holds an OCI image.
    public func open(registries: RegistryClients? = nil) throws -> ImageSource {
        do {
            switch self {
            case .scratch:
                return ScratchSource()
            case let .layout(directory, tag):
                let reader = try OCILayoutReader(directory: directory)
                return LocalImageSource(reference: description, reader: reader, tag: tag)
            case let .archive(path, tag):
                guard FileManager.default.fileExists(atPath: path) else {
                    throw BuildError.invalidBase(reference: description, reason: "\(path) does not exist (create a base with `fair base create --output \(path)`)")
                }
                let reader = try OCIArchiveReader(path: path)
                return LocalImageSource(reference: description, reader: reader, tag: tag)
            case let .registry(reference):
                guard let registries else {
                    throw BuildError.invalidBase(reference: description, reason: "registry access is not available here")
                }
                return RegistrySource(reference: reference, puller: try registries.puller(for: reference.host))
            }
        } catch let error as OCIError {
            throw BuildError.invalidBase(reference: description, reason: error.description)
        }
    }

    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case let .layout(directory, tag): return "oci:\(directory)" + (tag.map { ":\($0)" } ?? "")
        case let .archive(path, tag): return "oci-archive:\(path)" + (tag.map { ":\($0)" } ?? "")
        case let .registry(reference): return reference.description
        }
    }
}
