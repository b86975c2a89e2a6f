import FairRegistry

/// When the node goes to the registry for an image (Kubernetes `imagePullPolicy`).
public enum PullPolicy: String, Sendable {
    /// Resolve the tag every time; unpack again only when it names a new digest.
    case always = "Always"
    /// Use what the node already has for this reference; pull only when it has nothing.
    case ifNotPresent = "IfNotPresent"
    /// Never pull: the image must already be on the node.
    case never = "Never"

    /// Reads the policy as the API spells it. The API server defaults it, so an empty value only
    /// comes from a client that bypassed defaulting; it gets the Kubernetes default (Always for
    /// `:latest` or no tag, IfNotPresent otherwise). `written` is the reference as the pod has it.
    public init(parsing text: String, for reference: RegistryReference, written: String) throws {
        if text.isEmpty {
            let floating = reference.digest == nil && (reference.tag == nil || reference.tag == "latest")
            self = floating ? .always : .ifNotPresent
            return
        }
        guard let policy = PullPolicy(rawValue: text) else {
            throw ImageError(.invalidPullPolicy, reference: written,
                             detail: "unknown imagePullPolicy \"\(text)\"; use Always, IfNotPresent or Never")
        }
        self = policy
    }
}
