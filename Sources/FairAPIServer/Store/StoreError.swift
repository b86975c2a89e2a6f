/// Why a store operation did not happen, in API terms.
public enum StoreError: Error, Equatable {
    case notFound
    case alreadyExists
    /// The caller's resourceVersion (or uid precondition) is not the stored one.
    case conflict(String)
    /// A watch asked for history the event window no longer holds.
    case gone(oldest: Int64)
    /// The object, encoded, is larger than the store keeps (etcd's request limit).
    case tooLarge(size: Int, limit: Int)
}
