/// `NAME[:TAG]` as used for the image's `org.opencontainers.image.ref.name`.
public struct ImageTag: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var tag: String

    public init(parsing text: String) throws {
        var name = text
        var tag = "latest"
        if let colon = text.lastIndex(of: ":"), !text[text.index(after: colon)...].contains("/") {
            name = String(text[..<colon])
            tag = String(text[text.index(after: colon)...])
        }
        let nameAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-/")
        guard !name.isEmpty, name.allSatisfy({ nameAllowed.contains($0) }), !name.hasPrefix("/"), !name.hasSuffix("/") else {
            throw BuildError.invalidOption(option: "--tag", message: "invalid image name \"\(name)\": use lowercase letters, digits, '.', '_', '-' and '/'")
        }
        let tagAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !tag.isEmpty, tag.count <= 128, tag.allSatisfy({ tagAllowed.contains($0) }), tag.first != "." && tag.first != "-" else {
            throw BuildError.invalidOption(option: "--tag", message: "invalid tag \"\(tag)\": up to 128 letters, digits, '_', '.' and '-'")
        }
        self.name = name
        self.tag = tag
    }

    /// A valid image name derived from a project name ("My Project" → "my-project").
    public static func sanitisedName(_ project: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        var name = String(project.lowercased().map { allowed.contains($0) ? $0 : "-" })
        while name.hasPrefix("-") || name.hasPrefix(".") || name.hasPrefix("_") { name.removeFirst() }
        return name.isEmpty ? "image" : name
    }

    public var description: String { "\(name):\(tag)" }
}
