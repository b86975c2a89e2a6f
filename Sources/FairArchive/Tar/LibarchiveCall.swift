import CArchive

/// The one place a libarchive status code becomes a Swift error: anything below ARCHIVE_WARN
/// throws with libarchive's own message for the handle.
@discardableResult
func checkArchive(_ status: Int32, _ handle: OpaquePointer?, _ operation: @autoclosure () -> String) throws -> Int32 {
    if status < ARCHIVE_WARN {
        throw ArchiveError.libarchive(operation: operation(), message: archiveMessage(handle))
    }
    return status
}

func archiveMessage(_ handle: OpaquePointer?) -> String {
    guard let handle, let cString = archive_error_string(handle) else { return "unknown libarchive error" }
    return String(cString: cString)
}
