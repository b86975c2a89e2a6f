import Hummingbird
import Logging
import NIOHTTP1

/// A backend connection lent to a response whose body is still coming. Relaying gives it back
/// to the pool when the pod's response ends; if the response is dropped unwritten (the client
/// left first), the connection is closed instead of leaked.
final class ConnectionLease: @unchecked Sendable {
    private var connection: BackendConnection?
    private let pool: BackendConnectionPool
    private let keepAlive: Bool
    private let logger: Logger

    init(_ connection: BackendConnection, pool: BackendConnectionPool, keepAlive: Bool, logger: Logger) {
        self.connection = connection
        self.pool = pool
        self.keepAlive = keepAlive
        self.logger = logger
    }

    /// Streams the body to the client as it arrives, at the client's pace (the next read from
    /// the pod waits for the last write). A failure on either side closes the pod's connection;
    /// the error ends the client's response early, which is all HTTP can say once the head is out.
    func relay(first: ByteBuffer?, to writer: inout any ResponseBodyWriter) async throws {
        guard let connection else { return }
        self.connection = nil
        var trailers: HTTPHeaders?
        do {
            if let first { try await writer.write(first) }
            while true {
                let chunk = try await connection.nextBody()
                if let bytes = chunk.bytes { try await writer.write(bytes) }
                if chunk.isEnd {
                    trailers = chunk.trailers
                    break
                }
            }
        } catch {
            connection.close()
            if let error = error as? BackendError { logger.warning("service proxy: \(error)") }
            throw error
        }
        connection.completed()
        if keepAlive { pool.release(connection) } else { connection.close() }
        try await writer.finish(trailers.map(ForwardedHeaders.response))
    }

    deinit { connection?.close() }
}
