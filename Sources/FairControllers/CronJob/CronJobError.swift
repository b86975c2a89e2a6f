/// Why a pass over a CronJob could not finish; it is tried again with back-off.
enum CronJobError: Error, CustomStringConvertible {
    case couldNotReplace(namespace: String, name: String)

    var description: String {
        switch self {
        case let .couldNotReplace(namespace, name):
            "could not replace job \(namespace)/\(name): deleting it failed (see the FailedDelete event)"
        }
    }
}
