/// The layer compressions an image can use. Both produce bytes that depend only on the
/// input and the settings, never on the number of threads, so a rebuild gives the same digest.
public enum CompressionAlgorithm: String, CaseIterable, Sendable {
    case gzip, zstd

    /// gzip defaults to its fastest level, as ko and crane do: layers are pulled far more often
    /// than they are built, but the few extra percent of size rarely pay for the slower builds.
    public var defaultLevel: Int {
        switch self {
        case .gzip: return 1
        case .zstd: return 3
        }
    }

    public var levels: ClosedRange<Int> {
        switch self {
        case .gzip: return 1...9
        case .zstd: return 1...19
        }
    }

    /// A compressor stage writing the compressed stream into `downstream`. `finish()` on it finishes `downstream`.
    public func makeCompressor(level: Int, workers: Int, downstream: ByteSink) throws -> ByteSink {
        switch self {
        case .gzip: return try GzipCompressor(level: level, workers: workers, downstream: downstream)
        case .zstd: return try ZstdCompressor(level: level, workers: workers, downstream: downstream)
        }
    }

    /// Rejects a level outside `levels` with a message that names the valid range.
    func validate(level: Int) throws {
        guard levels.contains(level) else {
            throw ArchiveError.compression(
                "\(rawValue) level \(level) is out of range \(levels.lowerBound)...\(levels.upperBound)")
        }
    }
}
