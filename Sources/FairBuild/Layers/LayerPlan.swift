import FairArchive
import FairOCI
import FairRegistry
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The project's files divided into layers by rate of change: each `LayerRule`'s files in a
/// layer of its own (in the rules' order, between deps and code), the rest in the code layer.
/// Directories stay with the code (the layer writer adds the parents each layer needs).
public struct LayerPlan: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var files: [ContextWalker.Entry]
    }

    /// The rules' layers that took at least one file, in the rules' order.
    public var layers: [Layer]
    public var code: [ContextWalker.Entry]

    public init(context: [ContextWalker.Entry], rules: [LayerRule], keepInCode: Set<String> = []) throws {
        let compiled = try rules.map { rule in try rule.paths.map { try IgnoreRules(contents: $0.joined(separator: "\n")) } }
        var taken = Array(repeating: [ContextWalker.Entry](), count: rules.count)
        var code: [ContextWalker.Entry] = []
        for entry in context {
            let index = keepInCode.contains(entry.relativePath) ? nil
                : rules.indices.first { Self.takes(rules[$0], compiled[$0], entry) }
            if let index { taken[index].append(entry) } else { code.append(entry) }
        }
        layers = zip(rules, taken).filter { !$0.1.isEmpty }.map { Layer(name: $0.0.name, files: $0.1) }
        self.code = code
    }

    static func takes(_ rule: LayerRule, _ paths: IgnoreRules?, _ entry: ContextWalker.Entry) -> Bool {
        switch entry.content {
        case .directory, .bytes, .hardlink: return false
        case .symlink:
            // A link is tiny: it goes by name only, never by size.
            return rule.minSize == nil && paths?.isExcluded(entry.relativePath) == true
        case let .file(_, size):
            if let minSize = rule.minSize {
                if size < minSize || LayerRule.codeSuffixes.contains(where: { entry.relativePath.hasSuffix($0) }) { return false }
            }
            return paths.map { $0.isExcluded(entry.relativePath) } ?? true
        }
    }
}

/// A layer of project files, taken from the layer cache while none of its files changed: the
/// key holds each file's path, mode and what `stat` says of it (device, inode, size, and the
/// modification and change times to the nanosecond, as git's index does), and how the layer is
/// written. A file rewritten in place changes its ctime, so it is never missed.
public struct FileLayer {
    public var name: String
    public var entries: [LayerEntry]

    public init(name: String, entries: [LayerEntry]) {
        self.name = name
        self.entries = entries
    }

    public func cacheKey(writer: LayerWriter) throws -> String {
        let hasher = DigestingSink()
        try hasher.write(["fair-files-v1", name, writer.compression.rawValue, String(writer.level), String(writer.mtime)].joined(separator: "\n") + "\n")
        for entry in entries.sorted(by: { $0.path < $1.path }) {
            var line = "\(entry.path)\u{0}\(entry.mode)\u{0}\(entry.uid)\u{0}\(entry.gid)\u{0}"
            switch entry.content {
            case let .file(sourcePath, size):
                var status = stat()
                guard lstat(sourcePath, &status) == 0 else {
                    throw BuildError.unreadable(path: sourcePath, reason: String(cString: strerror(errno)))
                }
                line += "f\u{0}\(size)\u{0}\(status.st_dev)\u{0}\(status.st_ino)\u{0}\(status.st_size)\u{0}"
                    + "\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)\u{0}\(status.st_ctim.tv_sec).\(status.st_ctim.tv_nsec)"
            case let .bytes(bytes): line += "b\u{0}\(Digest.sha256(of: bytes))"
            case .directory: line += "d"
            case let .symlink(target): line += "l\u{0}\(target)"
            case let .hardlink(target): line += "h\u{0}\(target)"
            }
            try hasher.write(line + "\n")
        }
        try hasher.finish()
        return "files-" + hasher.hexDigest!
    }

    /// The cached layer, or a new one written and cached.
    public func build(writer: LayerWriter, cache: LayerCache, scratch: String,
                      upload: () -> StreamedBlobUpload? = { nil }) throws -> (BuiltLayer, cached: Bool) {
        let key = try cacheKey(writer: writer)
        if let cached = cache.lookup(key) { return (cached, true) }
        let built = try writer.write(entries, to: "\(scratch)/\(name).layer", upload: upload())
        return (try cache.store(built, key: key), false)
    }
}
