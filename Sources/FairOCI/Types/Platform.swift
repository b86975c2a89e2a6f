/// An image's target platform (image-spec "platform" in an index, and config architecture/os).
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    public static let linuxAMD64 = Platform(architecture: "amd64", os: "linux")

    /// Parses `os/arch[/variant]`, e.g. `linux/amd64` or `linux/arm64/v8`.
    public init(parsing string: String) throws {
        let parts = string.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw OCIError.invalidPlatform(string)
        }
        self.init(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }
}
