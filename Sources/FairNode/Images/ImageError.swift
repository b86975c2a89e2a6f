/// Why an image could not be made ready. `reason` is what Kubernetes shows as the container's
/// waiting reason; `description` is the message beside it, naming the image and what failed.
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: String, Sendable {
        /// The pull or the unpack failed: registry errors, hostile or corrupt layers, no space.
        case pull = "ErrImagePull"
        /// The image is not on the node and the pull policy forbids pulling it.
        case neverPull = "ErrImageNeverPull"
        /// The reference cannot be parsed.
        case invalidName = "InvalidImageName"
        /// The pull policy is none of Always, IfNotPresent, Never.
        case invalidPullPolicy = "InvalidImagePullPolicy"
    }

    public var reason: Reason
    /// The reference as the pod spelled it.
    public var reference: String
    public var detail: String

    public init(_ reason: Reason, reference: String, detail: String) {
        self.reason = reason
        self.reference = reference
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(reference): \(detail)" }
}
