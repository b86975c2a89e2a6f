import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The names of ExternalName Services, resolved through the host's resolver. kube-dns answers
/// such a Service's name with a CNAME that the pod's resolver then follows; dnsmasq can only
/// alias names it holds itself, so the node follows the name instead and publishes what it
/// resolves to, looked up again every `refresh` while the Service lasts.
final class ExternalNames: @unchecked Sendable {
    static let refresh: TimeInterval = 30

    private let queue = DispatchQueue(label: "fair.dns.external-names")
    private let lock = NSLock()
    /// The external name each tracked Service (by hosts file name) points at now.
    private var tracked: [String: String] = [:]

    /// Resolves `name` for `key` now and every `refresh` after, handing the addresses (empty when
    /// the name does not resolve) to `publish`, until `forget(key)` or another name for `key`.
    func track(_ key: String, name: String, publish: @escaping @Sendable ([String]) -> Void) {
        let changed = lock.withLock { () -> Bool in
            defer { tracked[key] = name }
            return tracked[key] != name
        }
        guard changed else { return }
        schedule(key, name: name, after: 0, publish: publish)
    }

    func forget(_ key: String) {
        lock.withLock { tracked[key] = nil }
    }

    func forgetAll() {
        lock.withLock { tracked = [:] }
    }

    private func schedule(_ key: String, name: String, after delay: TimeInterval, publish: @escaping @Sendable ([String]) -> Void) {
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            guard isTracked(key, name) else { return }
            let addresses = Self.resolve(name)
            // Published only while still wanted, and under the lock `forget` takes: a Service
            // deleted or changed meanwhile is not brought back by a lookup already under way.
            let wanted = lock.withLock { () -> Bool in
                guard tracked[key] == name else { return false }
                publish(addresses)
                return true
            }
            if wanted { schedule(key, name: name, after: Self.refresh, publish: publish) }
        }
    }

    private func isTracked(_ key: String, _ name: String) -> Bool {
        lock.withLock { tracked[key] == name }
    }

    /// The addresses the host's resolver gives `name` (its /etc/hosts, then its DNS servers),
    /// IPv4 and IPv6, each once, in the resolver's order.
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let address = String(cString: text)
                if !addresses.contains(address) { addresses.append(address) }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
