import FairKube

/// A CronJob as one pass of the controller changes it, and whether its status must be written:
/// every change of a pass goes out in one status update at its end.
struct CronJobPass {
    var cronJob: CronJob
    var statusChanged = false

    init(cronJob: JSONValue) { self.cronJob = CronJob(json: cronJob) }

    var json: JSONValue { cronJob.json }

    func isActive(uid: String?) -> Bool { cronJob.status.active.contains { $0.uid == uid } }

    mutating func removeActive(uid: String?) {
        cronJob.status.active = cronJob.status.active.filter { $0.uid != uid }
        statusChanged = true
    }
}
