import ArgumentParser
import FairArchive
import FairBuild
import FairOCI

/// Runs a command body, turning any error into one `error: …` line and a non-zero exit.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CustomStringConvertible {
        Console.error(error.description)
        throw ExitCode.failure
    } catch {
        Console.error(error.localizedDescription)
        throw ExitCode.failure
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Input fair cannot use (a flag's value, a request body, a missing setting), said so that the
/// user knows what to change.
struct InputError: Error, CustomStringConvertible {
    var description: String
}
