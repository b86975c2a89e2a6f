import Foundation

extension RegistryClient {
    /// A token limited to `scopes` (`repository:models/NAME:push,pull`) from the registry's
    /// token endpoint, asked for with this client's credentials, to hand to something that must
    /// do only that (a training pod storing its model). nil when the registry issues no tokens
    /// (any registry without a Bearer challenge: the pod then uses what it is given).
    public func scopedToken(_ scopes: [String], lifetime: Int) throws -> String? {
        do {
            return try fetchScopedToken(scopes, lifetime: lifetime)
        } catch let error as RegistryError {
            // A realm that has no such endpoint: the registry is not of fair's kind.
            if case let .response(status, _, _, _, _) = error, status == 404 { return nil }
            throw error
        }
    }
}
