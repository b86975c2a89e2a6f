/// Kubernetes' rules for object names, for the API server and for the commands that make names.
public enum KubernetesNameRules {
    /// An RFC 1123 subdomain: lower-case alphanumerics, '-' and '.', starting and ending with an
    /// alphanumeric, at most 253 characters (most kinds' names).
    public static func isDNSSubdomain(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard name.allSatisfy({ allowed.contains($0) }) else { return false }
        guard let first = name.first, let last = name.last else { return false }
        return first.isLetter || first.isNumber ? (last.isLetter || last.isNumber) : false
    }
}
