/// OCI whiteouts: an entry named `.wh.NAME` removes NAME, as left by lower layers, from the
/// directory holding it; `.wh..wh..opq` makes that directory opaque, hiding everything lower
/// layers put in it. Neither is ever written to the root filesystem. Other `.wh..wh.` names are
/// aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) that docker also ignores.
///
/// Names are compared as bytes, as the kernel will see them.
enum Whiteout {
    case opaque
    case remove(name: [UInt8])
    case bookkeeping

    static let prefix = Array(".wh.".utf8)
    static let opaqueMarker = Array(".wh..wh..opq".utf8)
    static let bookkeepingPrefix = Array(".wh..wh.".utf8)

    /// True for any name starting with `.wh.`: such a file cannot exist in an image.
    static func isReserved(_ name: [UInt8]) -> Bool {
        name.starts(with: prefix)
    }

    /// The whiteout a base name stands for, or nil for an ordinary name. A marker naming no file,
    /// `.` or `..` (`.wh.`, `.wh..`, `.wh...`) would remove the directory holding it or its
    /// parent, and is refused.
    static func classify(_ name: [UInt8], entry: String) throws -> Whiteout? {
        guard isReserved(name) else { return nil }
        if name == opaqueMarker { return .opaque }
        if name.starts(with: bookkeepingPrefix) { return .bookkeeping }
        let victim = Array(name.dropFirst(prefix.count))
        if victim.isEmpty || victim == EntryPath.dot || victim == EntryPath.dotDot {
            throw ArchiveError.unsafeEntry(path: entry, reason: "whiteout names no file of the directory")
        }
        return .remove(name: victim)
    }
}
