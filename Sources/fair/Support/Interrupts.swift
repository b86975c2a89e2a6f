import FairArchive
import Foundation

/// On Ctrl-C or SIGTERM, removes the temporary files and directories in flight, then exits with
/// the conventional 128+signal status: an interrupted command leaves nothing half-written behind.
enum Interrupts {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    /// Said instead of "nothing was written" once a command has done something that outlives it
    /// (a Job it created keeps running).
    nonisolated(unsafe) static var message = "interrupted; nothing was written"

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                TemporaryFiles.removeAll()
                Console.error(message)
                exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }
}
