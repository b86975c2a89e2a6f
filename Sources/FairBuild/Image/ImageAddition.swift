/// A layer fair adds on top of a project's own, with the program the image then runs instead of
/// the training script: how `fair serve` makes a serving image that shares the training image's
/// base, deps and code layers (so a registry already holding those receives one small layer).
public struct ImageAddition: Sendable {
    /// Names the layer in `fair build`'s report and the image history ("serve").
    public var source: String
    public var files: [LayerEntry]
    public var entrypoint: [String]
    public var cmd: [String]?
    public var env: [(name: String, value: String)]
    public var labels: [String: String]

    public init(source: String, files: [LayerEntry], entrypoint: [String], cmd: [String]? = nil,
                env: [(name: String, value: String)] = [], labels: [String: String] = [:]) {
        self.source = source
        self.files = files
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.labels = labels
    }

    /// The files, with every parent directory written explicitly (as fair's layers always are).
    var entries: [LayerEntry] {
        var directories = Set<String>()
        for file in files {
            var parts = file.path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                directories.insert(parts.joined(separator: "/"))
                parts = parts.dropLast()
            }
        }
        let directoryEntries = directories.map { LayerEntry(path: $0, content: .directory, mode: 0o755) }
        return (directoryEntries + files).sorted { $0.path < $1.path }
    }
}
