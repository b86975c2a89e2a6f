import Crypto

/// Passes bytes through unchanged while computing their SHA-256 and counting them,
/// so a layer's digest and size are known the moment its last byte is written.
public final class DigestingSink: ByteSink {
    private var hasher = SHA256()
    private let downstream: ByteSink?
    public private(set) var byteCount: Int64 = 0
    public private(set) var hexDigest: String?

    public init(downstream: ByteSink? = nil) {
        self.downstream = downstream
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
        try downstream?.write(bytes)
    }

    public func finish() throws {
        hexDigest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        try downstream?.finish()
    }
}

/// SHA-256 of a whole file, read in fixed-size chunks.
public func sha256Hex(ofFileAt path: String) throws -> (hex: String, size: Int64) {
    let file = try ReadableFile(path: path)
    let sink = DigestingSink()
    try file.copy(to: sink)
    try sink.finish()
    return (sink.hexDigest!, sink.byteCount)
}
