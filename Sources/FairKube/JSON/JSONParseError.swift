import Foundation

/// Why a JSON document could not be read, and where: `offset` is the 0-based index of the byte
/// at which reading stopped (a leading byte-order mark counts), so a user can find it with
/// `head -c` or an editor's byte offset.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    public var errorDescription: String? { description }
}
