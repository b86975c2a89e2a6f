import NIOConcurrencyHelpers
import NIOCore

/// Backends that refused a connection moments ago: a pod that is stopping, or whose server is
/// not listening yet although the pod is marked ready. They are passed over for `penalty` so
/// the requests after the one that found out do not pay for the discovery again.
final class BackendHealth: Sendable {
    private let marks = NIOLockedValueBox<[Backend: NIODeadline]>([:])
    let penalty: TimeAmount

    init(penalty: TimeAmount = .seconds(1)) { self.penalty = penalty }

    func markUnavailable(_ backend: Backend) {
        let until = NIODeadline.now() + penalty
        marks.withLockedValue { $0[backend] = until }
    }

    func isAvailable(_ backend: Backend) -> Bool {
        marks.withLockedValue { marks in
            // The usual case: nothing has refused lately, so there is nothing to hash or look up.
            guard !marks.isEmpty, let until = marks[backend] else { return true }
            if until > .now() { return false }
            marks[backend] = nil
            return true
        }
    }

    /// Forgets backends that left every Service, so the map cannot grow without bound.
    func retain(only live: Set<Backend>) {
        marks.withLockedValue { marks in marks = marks.filter { live.contains($0.key) } }
    }
}
