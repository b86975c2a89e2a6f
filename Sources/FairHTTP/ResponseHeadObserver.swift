import FairArchive

/// A sink that wants to know a response's status as soon as its headers are in, before any body
/// byte (a proxy decides from it whether to answer 200 and stream, or pass an error on).
public protocol ResponseHeadObserver: AnyObject {
    /// Called once per final (non-1xx) response head, on the transfer's thread.
    func responseStarted(status: Int)
}
