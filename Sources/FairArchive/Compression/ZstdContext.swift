import CZstd

/// Owns a libzstd compression context and turns its error codes into `ArchiveError`s.
final class ZstdContext {
    let handle: OpaquePointer

    init() throws {
        guard let handle = ZSTD_createCCtx() else {
            throw ArchiveError.compression("zstd: cannot allocate a compression context")
        }
        self.handle = handle
    }

    deinit { ZSTD_freeCCtx(handle) }

    func set(_ parameter: ZSTD_cParameter, _ value: Int, name: String) throws {
        try Self.check(ZSTD_CCtx_setParameter(handle, parameter, Int32(value)), "set \(name) to \(value)")
    }

    /// Returns `result` when it is not a libzstd error code.
    @discardableResult
    static func check(_ result: Int, _ operation: String) throws -> Int {
        if ZSTD_isError(result) != 0 {
            throw ArchiveError.compression("zstd: \(operation): \(String(cString: ZSTD_getErrorName(result)))")
        }
        return result
    }
}
