/// A layer entry's name, or a hard link's target, reduced to the path it names inside the root
/// filesystem being built: separators collapsed, `.` dropped and `..` applied. A leading `/` or
/// `./` means the root of the image (docker and containerd read names the same way), so
/// `/etc/passwd` is the image's `etc/passwd`, never the host's. A `..` that would climb above the
/// root is refused rather than clamped: no honest layer contains one.
///
/// Names are handled as bytes, never as Swift characters: the kernel splits paths on the byte
/// `/`, while Swift's `Character` would fuse a `/` or `.` with a following combining mark into
/// one grapheme and let `../\u{301}x` pass as a single harmless-looking component.
struct EntryPath: Equatable {
    static let slash = UInt8(ascii: "/")
    static let dot: [UInt8] = [UInt8(ascii: ".")]
    static let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]

    /// Components below the root, as raw bytes; empty for the root itself. None is empty, `.` or
    /// `..`, and none contains `/` or NUL.
    let components: [[UInt8]]

    /// Cleans `raw`; `entry` is the archive entry named in a refusal, `role` what `raw` is to it.
    init(cleaning raw: String, entry: String, role: String = "name") throws {
        let bytes = Array(raw.utf8)
        guard !bytes.isEmpty else {
            throw ArchiveError.unsafeEntry(path: entry, reason: "empty \(role)")
        }
        guard !bytes.contains(0) else {
            throw ArchiveError.unsafeEntry(path: entry, reason: "\(role) contains a NUL byte")
        }
        var cleaned: [[UInt8]] = []
        for part in bytes.split(separator: Self.slash, omittingEmptySubsequences: true) {
            if part.elementsEqual(Self.dot) { continue }
            if part.elementsEqual(Self.dotDot) {
                guard !cleaned.isEmpty else {
                    throw ArchiveError.unsafeEntry(
                        path: entry, reason: "\(role) \(raw) climbs above the root filesystem with '..'")
                }
                cleaned.removeLast()
                continue
            }
            cleaned.append(Array(part))
        }
        components = cleaned
    }

    init(components: [[UInt8]]) {
        self.components = components
    }

    var isRoot: Bool { components.isEmpty }

    /// The directory holding the path and the path's name in it; the root is `.` in itself.
    var location: (parent: [[UInt8]], name: [UInt8]) {
        guard let name = components.last else { return ([], Self.dot) }
        return (Array(components.dropLast()), name)
    }
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
func withCName<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    try (bytes + [0]).withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}
