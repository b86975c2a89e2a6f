import FairArchive
import FairOCI
import Foundation

/// A layer blob on disk with the digests an image needs: of the compressed bytes (the blob) and
/// of the tar inside (the config's diff_id).
struct FixtureLayer {
    var path: String
    var digest: Digest
    var diffID: Digest
    var size: Int64
    var mediaType: String
}

enum FixtureLayers {
    /// A gzip layer written with `TarWriter`, hashed before and after compression as it streams.
    static func write(to path: String, _ build: (TarWriter) throws -> Void) throws -> FixtureLayer {
        let blob = DigestingSink(downstream: try FileSink(path: path))
        let compressor = try CompressionAlgorithm.gzip.makeCompressor(level: 1, workers: 1, downstream: blob)
        let tarStream = DigestingSink(downstream: compressor)
        let tar = try TarWriter(sink: tarStream)
        try build(tar)
        try tar.finish()
        return FixtureLayer(path: path, digest: Digest.sha256(hex: blob.hexDigest!), diffID: Digest.sha256(hex: tarStream.hexDigest!),
                            size: blob.byteCount, mediaType: FairOCI.MediaType.layerTarGzip)
    }

    /// The busybox applets the tests use, as links to the static binary.
    static let applets = [
        "sh", "echo", "cat", "sleep", "env", "pwd", "hostname", "id", "touch", "head", "tr", "httpd", "grep", "test",
        "ls", "mkdir", "wc", "true", "false",
    ]

    /// A base layer: the host's static busybox as /bin/busybox with its applets, and a few
    /// files with known contents and modes.
    static func busybox(to path: String, busybox: String = "/bin/busybox") throws -> FixtureLayer {
        let size = try FileManager.default.attributesOfItem(atPath: busybox)[.size] as? Int64 ?? 0
        return try write(to: path) { tar in
            try tar.writeHeader(TarEntry(path: "bin/", kind: .directory, mode: 0o755, mtime: 1))
            try tar.writeFile(TarEntry(path: "bin/busybox", kind: .file(size: size), mode: 0o755, mtime: 1), contentsOf: busybox)
            for applet in applets {
                try tar.writeHeader(TarEntry(path: "bin/\(applet)", kind: .symlink(target: "busybox"), mode: 0o777, mtime: 1))
            }
            try tar.writeHeader(TarEntry(path: "etc/", kind: .directory, mode: 0o755, mtime: 1))
            try tar.writeFile(TarEntry(path: "etc/passwd", kind: .file(size: 0), mode: 0o644, mtime: 1),
                              contents: Array("root:x:0:0:root:/root:/bin/sh\nworker:x:1234:5678:worker:/home/worker:/bin/sh\n".utf8))
            try tar.writeFile(TarEntry(path: "etc/group", kind: .file(size: 0), mode: 0o644, mtime: 1),
                              contents: Array("root:x:0:\nworkers:x:5678:\nextra:x:4321:\n".utf8))
            try tar.writeFile(TarEntry(path: "etc/motd", kind: .file(size: 0), mode: 0o640, uid: 12, gid: 34, mtime: 1_000),
                              contents: Array("base motd\n".utf8))
            try tar.writeHeader(TarEntry(path: "app/", kind: .directory, mode: 0o755, mtime: 1))
            try tar.writeFile(TarEntry(path: "app/old.txt", kind: .file(size: 0), mode: 0o644, mtime: 1), contents: Array("old".utf8))
        }
    }

    /// An uncompressed tar written header by header (ustar), for entries `TarWriter` refuses to
    /// write (device nodes) or rewrites (names with `..`).
    static func raw(to path: String, _ entries: [RawTarEntry]) throws -> FixtureLayer {
        var bytes: [UInt8] = []
        for entry in entries {
            // ustar keeps 100 bytes of name and link target; a longer one would be cut silently.
            precondition(entry.name.utf8.count < 100 && entry.linkTarget.utf8.count < 100, "name too long for ustar: \(entry.name)")
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ field: [UInt8], at offset: Int) {
                for (index, byte) in field.enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, width: Int) -> [UInt8] {
                let digits = String(value, radix: 8)
                return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
            }
            put(Array(entry.name.utf8), at: 0)
            put(octal(entry.mode, width: 8), at: 100)
            put(octal(0, width: 8), at: 108)
            put(octal(0, width: 8), at: 116)
            put(octal(entry.content.count, width: 12), at: 124)
            put(octal(1, width: 12), at: 136)
            put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
            header[156] = entry.type
            put(Array(entry.linkTarget.utf8), at: 157)
            put(Array("ustar\u{0}00".utf8), at: 257)
            put(octal(entry.deviceMajor, width: 8), at: 329)
            put(octal(entry.deviceMinor, width: 8), at: 337)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(octal(checksum, width: 7) + [UInt8(ascii: " ")], at: 148)
            bytes += header + entry.content
            bytes += [UInt8](repeating: 0, count: (512 - entry.content.count % 512) % 512)
        }
        bytes += [UInt8](repeating: 0, count: 1024)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let digest = Digest.sha256(of: bytes)
        return FixtureLayer(path: path, digest: digest, diffID: digest, size: Int64(bytes.count), mediaType: FairOCI.MediaType.layerTar)
    }
}

/// One ustar header and its data. `type`: "0" file, "2" symlink, "3" character device,
/// "4" block device, "5" directory.
struct RawTarEntry {
    var name: String
    var type: UInt8
    var mode = 0o644
    var content: [UInt8] = []
    var linkTarget = ""
    var deviceMajor = 0
    var deviceMinor = 0

    static func file(_ name: String, _ text: String) -> RawTarEntry {
        RawTarEntry(name: name, type: UInt8(ascii: "0"), content: Array(text.utf8))
    }

    static func directory(_ name: String) -> RawTarEntry {
        RawTarEntry(name: name, type: UInt8(ascii: "5"), mode: 0o755)
    }

    static func symlink(_ name: String, to target: String) -> RawTarEntry {
        RawTarEntry(name: name, type: UInt8(ascii: "2"), mode: 0o777, linkTarget: target)
    }

    static func characterDevice(_ name: String, major: Int, minor: Int) -> RawTarEntry {
        RawTarEntry(name: name, type: UInt8(ascii: "3"), deviceMajor: major, deviceMinor: minor)
    }
}
