import Foundation

/// Threads shared by every node agent in the process. A hundred idle agents (the scheduling
/// benchmark's fake nodes) cost no threads here; a busy one borrows threads, which go away again
/// after a while without work. Jobs may block (image pulls, probes, API calls), so the pool grows
/// up to `maxThreads` rather than queueing behind a blocked job.
final class ElasticThreadPool: @unchecked Sendable {
    static let shared = ElasticThreadPool(maxThreads: 64, idleTimeout: 30)

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0
    private let maxThreads: Int
    private let idleTimeout: TimeInterval

    init(maxThreads: Int, idleTimeout: TimeInterval) {
        self.maxThreads = maxThreads
        self.idleTimeout = idleTimeout
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        let pending = jobs.count - head
        if idle >= pending {
            condition.signal()
        } else if threads < maxThreads {
            threads += 1
            let thread = Thread { [self] in work() }
            thread.name = "fair node worker"
            thread.stackSize = 1 << 20
            thread.start()
        } else {
            condition.signal()
        }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            idle += 1
            let woken = condition.wait(until: Date().addingTimeInterval(idleTimeout))
            idle -= 1
            if !woken && head == jobs.count {
                threads -= 1
                condition.unlock()
                return
            }
        }
    }
}
