import FairOCI

/// What a push or pull is doing, for progress displays. Delivered from worker threads.
public struct TransferEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        case started
        case progress(bytes: Int64)
        /// The registry already had it.
        case exists
        /// Linked from another repository of the same registry, no bytes sent.
        case mounted(from: String)
        case done
        case manifest(reference: String)
    }

    public var digest: Digest
    public var size: Int64
    public var kind: Kind
}
