import NIOConcurrencyHelpers
import NIOCore

/// Idle keep-alive connections to pods, per backend, most recently used first (the warmest
/// socket, and the one least likely to have been closed by the pod's idle timeout). At most
/// `maxIdlePerBackend` wait per backend; a connection beyond that is closed when it comes back.
/// A connection the pod closes while it waits leaves the pool at once.
final class BackendConnectionPool: Sendable {
    let group: EventLoopGroup
    let maxIdlePerBackend: Int
    let connectTimeout: TimeAmount
    private let idle = NIOLockedValueBox<[Backend: [BackendConnection]]>([:])

    init(group: EventLoopGroup, maxIdlePerBackend: Int = 64, connectTimeout: TimeAmount = .seconds(2)) {
        self.group = group
        self.maxIdlePerBackend = maxIdlePerBackend
        self.connectTimeout = connectTimeout
    }

    /// An idle connection to `backend`, or a new one; `fresh` skips the idle ones (a retry after
    /// a pooled connection turned out closed should not draw another that may be).
    func acquire(_ backend: Backend, fresh: Bool = false) async throws -> BackendConnection {
        if !fresh {
            while let connection = idle.withLockedValue({ $0[backend]?.popLast() }) {
                if connection.channel.isActive { return connection }
            }
        }
        let connection = try await BackendConnection.connect(to: backend, group: group, timeout: connectTimeout)
        connection.channel.closeFuture.whenComplete { [weak self, weak connection] _ in
            guard let self, let connection else { return }
            self.remove(connection)
        }
        return connection
    }

    /// Takes back a connection whose response was read to the end and may be reused.
    func release(_ connection: BackendConnection) {
        let kept = idle.withLockedValue { idle -> Bool in
            guard connection.channel.isActive, idle[connection.backend, default: []].count < maxIdlePerBackend else { return false }
            idle[connection.backend, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    var idleCount: Int { idle.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    /// Closes the idle connections to pods no Service routes to any more.
    func retain(only live: Set<Backend>) {
        let gone = idle.withLockedValue { idle -> [BackendConnection] in
            let stale = idle.filter { !live.contains($0.key) }
            for backend in stale.keys { idle[backend] = nil }
            return stale.values.flatMap { $0 }
        }
        for connection in gone { connection.close() }
    }

    func closeAll() {
        let all = idle.withLockedValue { idle -> [BackendConnection] in
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }

    private func remove(_ connection: BackendConnection) {
        idle.withLockedValue { idle in
            guard var list = idle[connection.backend], let index = list.firstIndex(where: { $0 === connection }) else { return }
            list.remove(at: index)
            idle[connection.backend] = list.isEmpty ? nil : list
        }
    }
}
