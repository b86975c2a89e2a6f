import Foundation

/// Bearer tokens by the scopes they were issued for, with their expiry. A token is reused until
/// shortly before it expires or until the registry rejects it.
final class TokenCache: @unchecked Sendable {
    private struct Entry {
        var token: String
        var expires: Date
    }

    private var entries: [String: Entry] = [:]
    private let lock = NSLock()

    static func key(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    func token(for scopes: [String], now: Date = Date()) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let entry = entries[Self.key(scopes)], entry.expires > now else { return nil }
        return entry.token
    }

    func store(_ token: String, for scopes: [String], expiresIn: TimeInterval, now: Date = Date()) {
        lock.lock(); defer { lock.unlock() }
        // Renew a little early so a long upload does not start with a token about to lapse.
        let margin = min(30, expiresIn / 4)
        entries[Self.key(scopes)] = Entry(token: token, expires: now.addingTimeInterval(max(1, expiresIn - margin)))
    }

    func invalidate(_ scopes: [String]) {
        lock.lock(); defer { lock.unlock() }
        entries[Self.key(scopes)] = nil
    }
}
