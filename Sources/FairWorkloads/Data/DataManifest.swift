import FairArchive
import FairKube
import Foundation

/// What the data pod lists under the claim's directory: each regular file with its size, mode
/// and SHA-256, and the entries it did not list (links, special files) with why.
public struct DataManifest: Sendable {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var size: Int64
        /// Permission bits (0o777 at most).
        public var mode: UInt16
        public var sha256: String

        public init(path: String, size: Int64, mode: UInt16, sha256: String) {
            self.path = path
            self.size = size
            self.mode = mode
            self.sha256 = sha256
        }
    }

    public var entries: [Entry]
    public var skipped: [(path: String, why: String)]

    public init(entries: [Entry] = [], skipped: [(path: String, why: String)] = []) {
        self.entries = entries
        self.skipped = skipped
    }

    /// By path.
    public var byPath: [String: Entry] { Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last }) }

    public var totalBytes: Int64 { entries.reduce(0) { $0 + $1.size } }
}

/// Reads the manifest as it streams in, one JSON object a line, keeping only the decoded entries
/// (a line longer than `maxLineBytes` is an error, so a misbehaving pod cannot fill memory).
/// Complete only once the last line, `{"end": true, …}`, has been seen.
final class DataManifestSink: ByteSink {
    private(set) var manifest = DataManifest()
    private(set) var ended = false
    private var pending: [UInt8] = []
    private let maxLineBytes = 64 << 10

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            try line(Array(pending[start..<newline]))
            start = newline + 1
        }
        pending.removeFirst(start)
        if pending.count > maxLineBytes { throw Malformed(description: "a manifest line is longer than \(maxLineBytes) bytes") }
    }

    func finish() throws {
        if !pending.isEmpty { try line(pending) }
        pending = []
    }

    private func line(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        if ended { throw Malformed(description: "the manifest goes on after its last line") }
        let value: JSONValue
        do {
            value = try JSONCoding.decode(Data(bytes))
        } catch {
            throw Malformed(description: "a manifest line is not JSON: \(error)")
        }
        if value["end"]?.boolValue == true {
            for item in value["skipped"]?.arrayValue ?? [] {
                manifest.skipped.append((item["path"]?.stringValue ?? "?", item["why"]?.stringValue ?? "skipped"))
            }
            ended = true
            return
        }
        guard let path = value["path"]?.stringValue, let size = value["size"]?.intValue, size >= 0,
              let mode = value["mode"]?.intValue, (0...0o777).contains(mode),
              let sha256 = value["sha256"]?.stringValue, sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw Malformed(description: "a manifest line lacks a path, size, mode or sha256: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        manifest.entries.append(.init(path: path, size: size, mode: UInt16(mode), sha256: sha256.lowercased()))
    }
}
