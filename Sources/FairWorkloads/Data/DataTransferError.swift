import Foundation

/// Why `fair data push` or `pull` stopped, in terms of the user's claim and files, with what to
/// do about it where there is something to do.
public enum DataTransferError: Error, CustomStringConvertible, Equatable {
    case invalidLocation(String)
    case claimNotFound(claim: String, namespace: String)
    /// The pod that serves the claim will not start by itself: no node fits, its image cannot be
    /// pulled, the claim cannot be mounted…
    case podCannotStart(pod: String, location: String, problem: String)
    /// It started, then ended before it served anything.
    case podEnded(pod: String, location: String, detail: String)
    case podNotReady(pod: String, location: String, seconds: Int, state: String)
    /// Pull from a directory that is not in the claim.
    case pathNotFound(location: String, detail: String)
    /// The pod named a file with a path fair will not write.
    case unsafePath(location: String, problem: String)
    /// The pod refused or failed a request for one file (or the manifest).
    case refused(location: String, file: String?, status: Int, message: String)
    /// The bytes that arrived are not the bytes listed.
    case mismatch(location: String, file: String, detail: String)
    /// The manifest ended before its last line: the pod stopped, or the connection broke.
    case incompleteManifest(location: String)
    /// A local file that cannot be written where it goes.
    case localConflict(path: String, problem: String)

    public var description: String {
        switch self {
        case let .invalidLocation(message):
            return message
        case let .claimNotFound(claim, namespace):
            return "persistentvolumeclaim \(claim) not found in namespace \(namespace) (kubectl get pvc -n \(namespace) lists those there; -n picks another namespace)"
        case let .podCannotStart(pod, location, problem):
            return "the data pod \(pod) for \(location) cannot start: \(problem)"
        case let .podEnded(pod, location, detail):
            return "the data pod \(pod) for \(location) ended before it served anything: \(detail)"
        case let .podNotReady(pod, location, seconds, state):
            return "the data pod \(pod) for \(location) was not ready after \(seconds)s (\(state)); see kubectl describe pod \(pod)"
        case let .pathNotFound(location, detail):
            return "\(location): \(detail)"
        case let .unsafePath(location, problem):
            return "\(location): the claim lists a file fair will not write: \(problem)"
        case let .refused(location, file, status, message):
            let subject = file.map { "\(location): \($0)" } ?? location
            return "\(subject): \(message) (HTTP \(status))"
        case let .mismatch(location, file, detail):
            return "\(location): \(file): \(detail)"
        case let .incompleteManifest(location):
            return "\(location): the list of files ended early (the data pod stopped, or the connection broke); run the command again"
        case let .localConflict(path, problem):
            return "\(path): \(problem)"
        }
    }
}
