import HummingbirdCore
import NIOCore

/// One connection a server accepted, owned until it is served or dropped.
///
/// NIO hands each accepted connection to the server's accept loop as a value that holds the
/// connection's writer. When a server stops while a client is connecting, the accept loop has
/// already ended, so NIO drops that value; the writer in it was never finished, and NIO (2.101)
/// stops the whole process with "Deinited NIOAsyncWriter without calling finish()" once the
/// connection becomes active. Wrapping the value lets a dropped connection finish its writer and
/// close, which is what a client of a stopping server should see anyway.
public final class AcceptedConnection: ServerChildChannelValue {
    let connection: HTTP1Channel.Value

    public var channel: any Channel { connection.channel }

    init(_ connection: HTTP1Channel.Value) {
        self.connection = connection
    }

    deinit {
        // A served connection was finished and closed by `executeThenClose` already, and both
        // calls are then no-ops. NIO deprecates reaching the writer outside that scope; here
        // nobody else is left to finish it, which is the point.
        connection.outbound.finish()
        connection.channel.close(promise: nil)
    }
}
