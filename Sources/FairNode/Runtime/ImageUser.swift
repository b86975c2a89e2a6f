import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who a container's process runs as: the image config's `User` (`uid`, `uid:gid`, `name`,
/// `name:group`), looked up in the image's own /etc/passwd and /etc/group the way docker does.
/// No user means root.
struct ImageUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var home: String

    static let root = ImageUser(uid: 0, gid: 0, home: "/root")

    /// Resolves `user` against the root filesystem at `rootfs`. Files of the image are read
    /// without following links (an image's /etc/passwd may point anywhere on the host).
    static func resolve(_ user: String, rootfs: String) throws -> ImageUser {
        let spec = user.trimmingCharacters(in: .whitespaces)
        if spec.isEmpty { return root }
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let passwd = ImageFile.read(["etc", "passwd"], in: rootfs).map(Self.entries) ?? []

        let account: [String]?
        let uid: UInt32
        if let number = UInt32(parts[0]) {
            uid = number
            account = passwd.first { UInt32($0[2]) == number }
        } else {
            guard let entry = passwd.first(where: { $0[0] == parts[0] }), let number = UInt32(entry[2]) else {
                throw ImageUserError("user \"\(parts[0])\" is not in the image's /etc/passwd; use a numeric uid")
            }
            uid = number
            account = entry
        }

        var gid = account.flatMap { UInt32($0[3]) } ?? 0
        if parts.count == 2 {
            if let number = UInt32(parts[1]) {
                gid = number
            } else {
                let groups = ImageFile.read(["etc", "group"], in: rootfs).map(Self.entries) ?? []
                guard let entry = groups.first(where: { $0[0] == parts[1] && $0.count >= 3 }), let number = UInt32(entry[2]) else {
                    throw ImageUserError("group \"\(parts[1])\" is not in the image's /etc/group; use a numeric gid")
                }
                gid = number
            }
        }
        let home = account.flatMap { $0.count > 5 && !$0[5].isEmpty ? $0[5] : nil } ?? (uid == 0 ? "/root" : "/")
        return ImageUser(uid: uid, gid: gid, home: home)
    }

    /// `name:password:id:…` lines split on `:`, keeping only lines with at least four fields.
    private static func entries(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 4 && !$0[0].hasPrefix("#") }
    }
}

struct ImageUserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Small text files of an unpacked image, read without following symbolic links anywhere on
/// the way and only if they are regular files.
enum ImageFile {
    static let limit = 4 << 20
    private static let pathOnly: Int32 = 0o10000000

    static func read(_ components: [String], in rootfs: String) -> String? {
        var current = open(rootfs, pathOnly | O_DIRECTORY | O_CLOEXEC)
        if current < 0 { return nil }
        for directory in components.dropLast() {
            let next = openat(current, directory, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            if next < 0 { return nil }
            current = next
        }
        let file = openat(current, components[components.count - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        close(current)
        if file < 0 { return nil }
        defer { close(file) }
        var status = stat()
        guard fstat(file, &status) == 0, status.st_mode & S_IFMT == S_IFREG, Int(status.st_size) <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress! + filled, $0.count - filled) }
            if count <= 0 { break }
            filled += count
        }
        return String(decoding: bytes[0..<filled], as: UTF8.self)
    }
}
