import NIOConcurrencyHelpers

/// Hands out a port's backends in turn. A backend that recently refused a connection is passed
/// over while another is left; one this request already tried is passed over while an untried
/// one is left, and chosen again (on a fresh connection) only when none is.
final class RoundRobinPicker: Sendable {
    private let counter = NIOLockedValueBox<UInt>(0)

    func pick(from backends: [Backend], excluding tried: [Backend], health: BackendHealth) -> Backend? {
        let count = UInt(backends.count)
        guard count > 0 else { return nil }
        let start = counter.withLockedValue { value -> UInt in
            defer { value &+= 1 }
            return value
        }
        var unavailable: Backend?
        for offset in 0..<count {
            let backend = backends[Int((start &+ offset) % count)]
            if !tried.isEmpty && tried.contains(backend) { continue }
            if health.isAvailable(backend) { return backend }
            if unavailable == nil { unavailable = backend }
        }
        return unavailable ?? backends[Int(start % count)]
    }
}
