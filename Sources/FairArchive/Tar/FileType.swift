/// POSIX file-type bits (S_IFMT values) as libarchive expects them. libarchive's AE_IF* macros
/// are casts Swift cannot import, and Glibc's S_IF* names clash between modules, so they are
/// spelled out once here.
enum FileType {
    static let regular: UInt32 = 0o100000
    static let directory: UInt32 = 0o040000
    static let symlink: UInt32 = 0o120000
}
