import FairSupport
import FairKube
import Foundation

/// When a projected service-account token is renewed, by kubelet's token manager's rule: once
/// 80% of its life has passed (its life ending at `warnafter` when the API server extended it),
/// or once it is a day old, whatever its life. Read from the token's own claims; the signature
/// is the API server's business, not the node's.
enum ProjectedTokenRefresh {
    static let maximumAge: TimeInterval = 24 * 3600

    static func due(_ token: String) -> Date? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        guard let data = Base64URL.decode(parts[1]), let claims = try? JSONCoding.decode(data),
              let issued = claims["iat"]?.intValue, let expires = claims.value(at: ["kubernetes.io", "warnafter"])?.intValue ?? claims["exp"]?.intValue,
              expires > issued else { return nil }
        let life = TimeInterval(expires - issued)
        return Date(timeIntervalSince1970: TimeInterval(issued) + min(life * 0.8, maximumAge))
    }
}
