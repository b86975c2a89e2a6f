import FairKube
import FairSupport
import Foundation
import XCTest

/// The CronJob controller on the manual clock: schedules are minutes apart, so time is moved
/// rather than waited for (these tests are skipped on the machine's clock).
final class CronJobControllerTests: ControllerTestCase {
    private static let utc = TimeZone(identifier: "UTC")!

    private func start() throws {
        try XCTSkipUnless(clock is ManualClock, "CronJob schedules are minutes apart: these tests move a manual clock")
        startControllers { $0.cronJobTimeZone = Self.utc }
    }

    @discardableResult
    private func createCronJob(_ name: String, schedule: String = "* * * * *", _ extra: [String: JSONValue] = [:]) throws -> JSONValue {
        var spec: JSONValue = [
            "schedule": .string(schedule),
            "jobTemplate": [
                "metadata": ["labels": ["app": .string(name)], "annotations": ["team": "reports"]],
                "spec": ["backoffLimit": 0, "template": ["spec": ["containers": [Self.container()], "restartPolicy": "Never"]]],
            ],
        ]
        for (key, value) in extra { spec[key] = value }
        return try client.create(.cronJobs, ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": .string(name)], "spec": spec])
    }

    private func cronJob(_ name: String) throws -> JSONValue { try client.get(.cronJobs, name: name) }

    /// The `n`th whole minute after the CronJob was created: its `n`th run every minute.
    private func minute(_ n: Int, after cronJob: JSONValue) throws -> Date {
        let created = try XCTUnwrap(KubeTime.parse(cronJob.value(at: "metadata.creationTimestamp")))
        return Date(timeIntervalSince1970: (created.timeIntervalSince1970 / 60).rounded(.down) * 60 + Double(n) * 60)
    }

    private func jobName(_ cronJob: String, _ scheduled: Date) -> String { "\(cronJob)-\(Int(scheduled.timeIntervalSince1970) / 60)" }

    /// Jobs whose controller is the CronJob `name`, by name.
    private func jobs(of name: String) throws -> [String] {
        try list(.jobs).filter { job in
            (job.value(at: "metadata.ownerReferences")?.arrayValue ?? []).contains {
                $0["kind"] == "CronJob" && $0["name"]?.stringValue == name && $0["controller"] == true
            }
        }.compactMap(\.name).sorted()
    }

    private func activeNames(_ cronJob: JSONValue) -> [String] {
        (cronJob.value(at: "status.active")?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// Plays the node: the Job's pod ends, and the Job controller finishes the Job.
    private func finishJob(_ name: String, succeeded: Bool) throws {
        let pod = try eventually("the pod of \(name)") { try activePods("job-name=\(name)").first }
        try markFinished(pod, succeeded: succeeded)
        try waitUntil("\(name) finished") {
            condition(try client.get(.jobs, name: name), succeeded ? "Complete" : "Failed")?["status"] == "True"
        }
    }

    /// Moves the manual clock (timers that fall due run on the way).
    private func jump(to date: Date) {
        (clock as? ManualClock)?.advance(by: date.timeIntervalSince(now))
    }

    private func events(_ name: String, _ reason: String) throws -> [JSONValue] {
        try list(.events).filter { $0.value(at: "involvedObject.name")?.stringValue == name && $0["reason"]?.stringValue == reason }
    }

    // MARK: - Scheduling

    func testRunsOnScheduleAndTracksItsJobs() throws {
        try start()
        let created = try createCronJob("report")
        let uid = try XCTUnwrap(created.uid)
        let first = try minute(1, after: created), second = try minute(2, after: created)

        let name = jobName("report", first)
        let job = try eventually("the first Job") { try? client.get(.jobs, name: name) }
        XCTAssertGreaterThanOrEqual(now, first, "started before its time")
        XCTAssertEqual(job.value(at: "metadata.labels.app"), "report")
        XCTAssertEqual(job.value(at: "metadata.annotations.team"), "reports")
        XCTAssertEqual(job.value(at: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"])?.stringValue,
                       KubeTime.format(first))
        let owner = try XCTUnwrap(job.value(at: "metadata.ownerReferences")?.arrayValue?.first)
        XCTAssertEqual(owner["apiVersion"], "batch/v1")
        XCTAssertEqual(owner["kind"], "CronJob")
        XCTAssertEqual(owner["name"], "report")
        XCTAssertEqual(owner["uid"]?.stringValue, uid)
        XCTAssertEqual(owner["controller"], true)
        XCTAssertEqual(job.value(at: "spec.backoffLimit"), .int(0))

        let running = try eventually("status.active") { () -> JSONValue? in
            let cronJob = try cronJob("report")
            guard activeNames(cronJob) == [name] else { return nil }
            return cronJob
        }
        XCTAssertEqual(running.value(at: "status.lastScheduleTime")?.stringValue, KubeTime.format(first))
        let reference = try XCTUnwrap(running.value(at: "status.active")?.arrayValue?.first)
        XCTAssertEqual(reference["kind"], "Job")
        XCTAssertEqual(reference["apiVersion"], "batch/v1")
        XCTAssertEqual(reference["namespace"], "default")
        XCTAssertEqual(reference["uid"]?.stringValue, job.uid)
        XCTAssertNil(running.value(at: "status.lastSuccessfulTime"))

        try finishJob(name, succeeded: true)
        let completion = try XCTUnwrap(try client.get(.jobs, name: name).value(at: "status.completionTime")?.stringValue)
        let done = try eventually("the completed run recorded") { () -> JSONValue? in
            let cronJob = try cronJob("report")
            guard activeNames(cronJob).isEmpty, cronJob.value(at: "status.lastSuccessfulTime") != nil else { return nil }
            return cronJob
        }
        XCTAssertEqual(done.value(at: "status.lastSuccessfulTime")?.stringValue, completion)
        XCTAssertEqual(try jobs(of: "report"), [name], "a second Job before its minute")

        let next = jobName("report", second)
        try waitUntil("the second Job") { try jobs(of: "report") == [name, next].sorted() }
        XCTAssertGreaterThanOrEqual(now, second)
        try waitUntil("its status") { try cronJob("report").value(at: "status.lastScheduleTime")?.stringValue == KubeTime.format(second) }
        try waitUntil("the events") {
            try events("report", "SuccessfulCreate").count == 2 && !events("report", "SawCompletedJob").isEmpty
        }
        XCTAssertEqual(try events("report", "SuccessfulCreate").compactMap { $0["message"]?.stringValue }.sorted(),
                       ["Created job \(name)", "Created job \(next)"].sorted())
        XCTAssertEqual(try events("report", "SawCompletedJob").first?["message"]?.stringValue,
                       "Saw completed job: \(name), condition: Complete")
    }

    func testForbidSkipsWhileARunIsActiveAndStartsTheMissedRunAfter() throws {
        try start()
        let created = try createCronJob("nightly", ["concurrencyPolicy": "Forbid"])
        let first = try minute(1, after: created), second = try minute(2, after: created), third = try minute(3, after: created)
        let firstJob = jobName("nightly", first)
        try waitUntil("the first Job") { try jobs(of: "nightly") == [firstJob] }

        // It runs past the next minute: no second Job while it does.
        try stays("one Job while the first runs", for: second.addingTimeInterval(20).timeIntervalSince(now)) {
            try jobs(of: "nightly") == [firstJob]
        }
        try waitUntil("JobAlreadyActive") { try !events("nightly", "JobAlreadyActive").isEmpty }
        XCTAssertEqual(try cronJob("nightly").value(at: "status.lastScheduleTime")?.stringValue, KubeTime.format(first))

        // Once it is done, the skipped minute runs at once (it is the most recent one due).
        try finishJob(firstJob, succeeded: true)
        let secondJob = jobName("nightly", second)
        try waitUntil("the skipped run") { try jobs(of: "nightly") == [firstJob, secondJob] }
        XCTAssertLessThan(now, third, "waited for the next minute instead")
        try waitUntil("its status") {
            let cronJob = try cronJob("nightly")
            return activeNames(cronJob) == [secondJob] && cronJob.value(at: "status.lastScheduleTime")?.stringValue == KubeTime.format(second)
        }
    }

    func testReplaceDeletesTheRunningJobFirst() throws {
        try start()
        let created = try createCronJob("sync", ["concurrencyPolicy": "Replace"])
        let firstJob = jobName("sync", try minute(1, after: created)), secondJob = jobName("sync", try minute(2, after: created))
        try waitUntil("the first Job running") { try jobs(of: "sync") == [firstJob] && !activePods("job-name=\(firstJob)").isEmpty }

        try waitUntil("the second Job in place of the first") { try jobs(of: "sync") == [secondJob] }
        try waitUntil("the first Job's pods gone with it") { try pods("job-name=\(firstJob)").isEmpty }
        try waitUntil("status.active names the second only") { activeNames(try cronJob("sync")) == [secondJob] }
        XCTAssertEqual(try events("sync", "SuccessfulDelete").first?["message"]?.stringValue, "Deleted job \(firstJob)")
    }

    func testHistoryLimitsDeleteTheOldestFinishedJobs() throws {
        try start()
        let created = try createCronJob("etl", ["successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1])
        let names = try (1...4).map { jobName("etl", try minute($0, after: created)) }
        // Runs 1 and 3 succeed, 2 and 4 fail; each ends before the next starts.
        for (index, name) in names.enumerated() {
            try waitUntil("run \(index + 1)") { try jobs(of: "etl").contains(name) }
            try finishJob(name, succeeded: index % 2 == 0)
        }
        // (A fifth run may have started meanwhile; it is not what is looked at.)
        try waitUntil("the newest success and the newest failure kept") {
            try Set(jobs(of: "etl")).intersection(names) == [names[2], names[3]]
        }
        try waitUntil("the pruned Jobs' pods deleted too") {
            try pods("job-name=\(names[0])").isEmpty && pods("job-name=\(names[1])").isEmpty
        }
        XCTAssertEqual(Set(try events("etl", "SuccessfulDelete").compactMap { $0["message"]?.stringValue }),
                       ["Deleted job \(names[0])", "Deleted job \(names[1])"])
        let status = try cronJob("etl")
        XCTAssertEqual(status.value(at: "status.lastSuccessfulTime")?.stringValue,
                       try client.get(.jobs, name: names[2]).value(at: "status.completionTime")?.stringValue)
    }

    func testAChangedScheduleIsFirstLookedAtWhenNextDue() throws {
        try start()
        // Not due for years (February 29th).
        let created = try createCronJob("retimed", schedule: "0 0 29 2 *")
        try waitUntil("two minutes on", timeout: 20) { now >= (try minute(2, after: created)).addingTimeInterval(20) }
        // Every minute from now on: the minutes the new schedule had since creation are not run
        // at once; its next one is, on time.
        _ = try client.mergePatch(.cronJobs, name: "retimed", ["spec": ["schedule": "* * * * *"]])
        let next = try minute(3, after: created)
        try stays("nothing before the new schedule's next minute", for: next.addingTimeInterval(-1).timeIntervalSince(now)) {
            try jobs(of: "retimed").isEmpty
        }
        try waitUntil("the next minute's Job") { try jobs(of: "retimed") == [jobName("retimed", next)] }
    }

    // MARK: - Not starting

    func testSuspendedStartsNothingAndResumingRunsOnlyTheLatestMissedTime() throws {
        try start()
        let created = try createCronJob("paused", ["suspend": true])
        try stays("nothing while suspended", for: try minute(3, after: created).addingTimeInterval(5).timeIntervalSince(now)) {
            try jobs(of: "paused").isEmpty
        }
        XCTAssertNil(try cronJob("paused").value(at: "status.lastScheduleTime"))

        let resumedAt = now
        _ = try client.mergePatch(.cronJobs, name: "paused", ["spec": ["suspend": false]])
        let latest = Date(timeIntervalSince1970: (resumedAt.timeIntervalSince1970 / 60).rounded(.down) * 60)
        try waitUntil("one Job for the latest missed minute") { try jobs(of: "paused") == [jobName("paused", latest)] }
        XCTAssertLessThan(now.timeIntervalSince(resumedAt), 60, "waited for the next minute instead")
        try stays("no catch-up burst", for: 10) { try jobs(of: "paused").count == 1 }
    }

    func testAStartLaterThanTheDeadlineIsSkipped() throws {
        try start()
        _ = try createCronJob("late", ["suspend": true, "startingDeadlineSeconds": 10])
        // Resume 20 to 40 s into a minute: that minute's run is already 10 s too late.
        try waitUntil("the middle of a minute", timeout: 20) {
            let second = Int(now.timeIntervalSince1970) % 60
            return second >= 20 && second < 40
        }
        let nextMinute = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        _ = try client.mergePatch(.cronJobs, name: "late", ["spec": ["suspend": false]])
        try stays("no late start", for: nextMinute.addingTimeInterval(-1).timeIntervalSince(now)) { try jobs(of: "late").isEmpty }
        try waitUntil("the next run on time") { try jobs(of: "late") == [jobName("late", nextMinute)] }
        XCTAssertLessThan(now.timeIntervalSince(nextMinute), 10)
    }

    // MARK: - Restarts

    func testAfterALongPauseOneRunNotABurst() throws {
        try start()
        let created = try createCronJob("hourly-report")
        let firstJob = jobName("hourly-report", try minute(1, after: created))
        try waitUntil("the first Job") { try jobs(of: "hourly-report") == [firstJob] }
        try finishJob(firstJob, succeeded: true)
        try waitUntil("its success recorded") { try cronJob("hourly-report").value(at: "status.lastSuccessfulTime") != nil }

        // The controller manager is away for three hours: 180 runs missed.
        stopControllers()
        jump(to: now.addingTimeInterval(3 * 3600 + 25))
        let latest = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        startControllers { $0.cronJobTimeZone = Self.utc }

        let resumed = jobName("hourly-report", latest)
        try waitUntil("one Job for the latest missed minute") { try jobs(of: "hourly-report") == [firstJob, resumed].sorted() }
        try stays("no catch-up burst", for: 20) { try jobs(of: "hourly-report").count == 2 }
        try waitUntil("the warning") { try !events("hourly-report", "TooManyMissedTimes").isEmpty }
        XCTAssertEqual(try events("hourly-report", "TooManyMissedTimes").first?["type"], "Warning")
        XCTAssertEqual(try cronJob("hourly-report").value(at: "status.lastScheduleTime")?.stringValue, KubeTime.format(latest))
    }

    func testAJobDeletedByHandIsDroppedFromActive() throws {
        try start()
        let created = try createCronJob("cleanup", ["concurrencyPolicy": "Forbid"])
        let firstJob = jobName("cleanup", try minute(1, after: created))
        try waitUntil("the Job listed as active") { activeNames(try cronJob("cleanup")) == [firstJob] }
        try client.delete(.jobs, name: firstJob, propagation: "Background")
        try waitUntil("status.active emptied") { activeNames(try cronJob("cleanup")).isEmpty }
        try waitUntil("MissingJob") { try events("cleanup", "MissingJob").first?["message"]?.stringValue == "Active job went missing: \(firstJob)" }
        // With nothing active, Forbid lets the next minute run.
        let secondJob = jobName("cleanup", try minute(2, after: created))
        try waitUntil("the next run") { try jobs(of: "cleanup") == [secondJob] }
    }

    // MARK: - Time zones

    func testTheScheduleIsReadInItsTimeZone() throws {
        try start()
        // 09:00 in Kolkata (+05:30) is 03:30 UTC; the machine's zone (UTC here) does not matter.
        let created = try createCronJob("kolkata", schedule: "0 9 * * *", ["timeZone": "Asia/Kolkata"])
        let createdAt = try XCTUnwrap(KubeTime.parse(created.value(at: "metadata.creationTimestamp")))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.utc
        var run = calendar.startOfDay(for: createdAt).addingTimeInterval(3 * 3600 + 30 * 60)
        if run <= createdAt { run.addTimeInterval(86_400) }
        // Most of the day passes at once; the last half minute on the controllers' timers.
        jump(to: run.addingTimeInterval(-30))
        XCTAssertEqual(try jobs(of: "kolkata"), [], "started before 09:00 in Kolkata")

        let name = jobName("kolkata", run)
        let job = try eventually("the 09:00 Kolkata run") { try? client.get(.jobs, name: name) }
        XCTAssertGreaterThanOrEqual(now, run)
        let stamp = try XCTUnwrap(job.value(at: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"])?.stringValue)
        XCTAssertTrue(stamp.hasSuffix("T09:00:00+05:30"), stamp)
        try waitUntil("lastScheduleTime") { try cronJob("kolkata").value(at: "status.lastScheduleTime")?.stringValue == KubeTime.format(run) }
    }
}
