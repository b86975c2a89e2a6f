#if canImport(Glibc)
import Glibc
#endif

/// A joinable OS thread running one closure. Dispatch offers no join, and an owner that frees
/// buffers a thread works on has to know the thread is gone first.
final class WorkerThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private let thread: pthread_t
    private var joined = false

    init(_ run: @escaping () -> Void) throws {
        let body = Unmanaged.passRetained(Body(run))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, body.toOpaque())
        guard result == 0 else {
            body.release()
            throw ArchiveError.compression("cannot start a worker thread: \(String(cString: strerror(result)))")
        }
        self.thread = thread
    }

    /// Waits for the closure to return (deinit does too, so a thread never outlives its owner).
    func join() {
        guard !joined else { return }
        joined = true
        let result = pthread_join(thread, nil)
        precondition(result == 0, "pthread_join failed: \(result)")
    }

    deinit { join() }
}
