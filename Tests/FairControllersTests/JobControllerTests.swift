import FairKube
import Foundation
import XCTest

final class JobControllerTests: ControllerTestCase {
    private func createJob(_ name: String, spec: JSONValue) throws -> JSONValue {
        var spec = spec
        spec["template"] = ["spec": ["containers": [Self.container()], "restartPolicy": "Never"]]
        return try client.create(.jobs, ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": .string(name)], "spec": spec])
    }

    private func job(_ name: String) throws -> JSONValue { try client.get(.jobs, name: name) }

    func testJobRunsItsCompletionsOneAtATime() throws {
        startControllers()
        let created = try createJob("train", spec: ["completions": 2, "parallelism": 1])
        let uid = try XCTUnwrap(created.uid)

        let first = try eventually("the first pod") { try activePods("job-name=train").first }
        XCTAssertEqual(first.labels["batch.kubernetes.io/job-name"], "train")
        XCTAssertEqual(first.labels["controller-uid"], uid)
        XCTAssertEqual(first.ownerReferences.first?["uid"]?.stringValue, uid)
        XCTAssertEqual(first.ownerReferences.first?["controller"], true)
        XCTAssertEqual(first.ownerReferences.first?["blockOwnerDeletion"], true)
        try waitUntil("status.active 1") { try job("train").value(at: "status.active")?.intValue == 1 }
        XCTAssertNotNil(try job("train").value(at: "status.startTime"))
        try stays("one pod at a time", for: 0.3) { try pods("job-name=train").count == 1 }

        try markRunning(first)
        try waitUntil("status.ready 1") { try job("train").value(at: "status.ready")?.intValue == 1 }
        try markFinished(first, succeeded: true)
        let second = try eventually("the second pod") { try activePods("job-name=train").first { $0.uid != first.uid } }
        try waitUntil("succeeded 1") { try job("train").value(at: "status.succeeded")?.intValue == 1 }
        try markFinished(second, succeeded: true)

        let done = try eventually("Complete") { () -> JSONValue? in
            let job = try job("train")
            guard condition(job, "Complete")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(condition(done, "Complete")?["reason"], "CompletionsReached")
        XCTAssertNotNil(condition(done, "Complete")?["lastTransitionTime"])
        XCTAssertNotNil(condition(done, "Complete")?["lastProbeTime"])
        XCTAssertEqual(done.value(at: "status.succeeded")?.intValue, 2)
        XCTAssertEqual(done.value(at: "status.failed")?.intValue, 0)
        XCTAssertEqual(done.value(at: "status.active")?.intValue, 0)
        XCTAssertNotNil(done.value(at: "status.completionTime"))
        XCTAssertEqual(try pods("job-name=train").count, 2)
        try stays("no further pods and stable counts", for: 0.3) {
            try pods("job-name=train").count == 2 && job("train").value(at: "status.succeeded")?.intValue == 2
        }
        try waitUntil("the Completed event") { try eventReasons(for: "train").contains("Completed") }
        let reasons = try eventReasons(for: "train")
        XCTAssertEqual(reasons.filter { $0 == "SuccessfulCreate" }.count, 2)
    }

    func testFinishedJobIsDeletedAfterItsTTL() throws {
        startControllers()
        _ = try createJob("ttl", spec: ["completions": 1, "ttlSecondsAfterFinished": 2])
        let pod = try eventually("the pod") { try activePods("job-name=ttl").first }
        try markFinished(pod, succeeded: true)
        let complete = try eventually("Complete") { () -> JSONValue? in
            guard let complete = condition(try job("ttl"), "Complete"), complete["status"]?.stringValue == "True" else { return nil }
            return complete
        }
        let finished = try XCTUnwrap(KubeTime.parse(complete["lastTransitionTime"]))
        try waitUntil("the Job is deleted", timeout: 10) {
            do { _ = try job("ttl"); return false } catch let error as KubeError where error.code == 404 { return true }
        }
        // Seen gone at once (time moves only while the controllers are idle): not before its TTL.
        XCTAssertGreaterThanOrEqual(now.timeIntervalSince(finished), 2, "deleted before its TTL (2 s from the Complete condition)")
        try waitUntil("its pods go with it", timeout: 10) { try pods("job-name=ttl").isEmpty }
    }

    func testFailedPodsAreRetriedUntilTheBackoffLimit() throws {
        startControllers()
        _ = try createJob("flaky", spec: ["backoffLimit": 2])
        var failed: Set<String> = []
        for attempt in 1...3 {
            let pod = try eventually("attempt \(attempt)") { try activePods("job-name=flaky").first { !failed.contains($0.uid ?? "") } }
            XCTAssertEqual(try activePods("job-name=flaky").count, 1)
            try markFinished(pod, succeeded: false)
            failed.insert(pod.uid ?? "")
        }
        let done = try eventually("Failed") { () -> JSONValue? in
            let job = try job("flaky")
            guard condition(job, "Failed")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(condition(done, "Failed")?["reason"], "BackoffLimitExceeded")
        XCTAssertEqual(done.value(at: "status.failed")?.intValue, 3)
        XCTAssertEqual(done.value(at: "status.succeeded")?.intValue, 0)
        XCTAssertNil(done.value(at: "status.completionTime"))
        try stays("no fourth pod", for: 0.5) { try pods("job-name=flaky").count == 3 }
        XCTAssertEqual(try job("flaky").value(at: "status.failed")?.intValue, 3)
        try waitUntil("the BackoffLimitExceeded event") { try eventReasons(for: "flaky").contains("BackoffLimitExceeded") }
    }

    /// Pods that are deleted (a lost node's, a user's delete) still count, exactly once: a
    /// failed one after it was counted, a running one as a failure.
    func testDeletedPodsStillCountOnce() throws {
        startControllers()
        _ = try createJob("lost", spec: ["backoffLimit": 2])
        let first = try eventually("the first pod") { try activePods("job-name=lost").first }
        try markFinished(first, succeeded: false)
        try client.delete(.pods, name: first.name ?? "", gracePeriodSeconds: 0)
        let second = try eventually("a replacement") { try activePods("job-name=lost").first { $0.uid != first.uid } }
        try waitUntil("failed 1") { try job("lost").value(at: "status.failed")?.intValue == 1 }

        try markRunning(second)
        try client.delete(.pods, name: second.name ?? "", gracePeriodSeconds: 0)
        let third = try eventually("another replacement") {
            try activePods("job-name=lost").first { $0.uid != first.uid && $0.uid != second.uid }
        }
        try waitUntil("failed 2") { try job("lost").value(at: "status.failed")?.intValue == 2 }
        try stays("the job still runs", for: 0.3) {
            try condition(job("lost"), "Failed") == nil && job("lost").value(at: "status.failed")?.intValue == 2
        }

        try markFinished(third, succeeded: false)
        let done = try eventually("Failed") { () -> JSONValue? in
            let job = try job("lost")
            guard condition(job, "Failed")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(condition(done, "Failed")?["reason"], "BackoffLimitExceeded")
        XCTAssertEqual(done.value(at: "status.failed")?.intValue, 3)
        XCTAssertEqual(try pods("job-name=lost").map(\.uid), [third.uid])
    }

    func testActiveDeadlineFailsTheJobAndStopsItsPods() throws {
        startControllers()
        let created = now
        _ = try createJob("slow", spec: ["parallelism": 2, "completions": 4, "activeDeadlineSeconds": 2])
        let running = try eventually("two pods") { () -> [JSONValue]? in
            let pods = try activePods("job-name=slow")
            guard pods.count == 2 else { return nil }
            return pods
        }
        try markRunning(running[0])
        let done = try eventually("DeadlineExceeded", timeout: 5) { () -> JSONValue? in
            let job = try job("slow")
            guard condition(job, "Failed")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        // startTime has whole seconds, so the deadline may come up to a second early.
        XCTAssertGreaterThan(now.timeIntervalSince(created), 1)
        XCTAssertEqual(condition(done, "Failed")?["reason"], "DeadlineExceeded")
        XCTAssertEqual(done.value(at: "status.active")?.intValue, 0)
        try waitUntil("the pods deleted") { try activePods("job-name=slow").isEmpty }
        try waitUntil("the DeadlineExceeded event") { try eventReasons(for: "slow").contains("DeadlineExceeded") }
    }

    func testSuspendedJobRunsNothingUntilResumed() throws {
        startControllers()
        _ = try createJob("later", spec: ["suspend": true])
        try waitUntil("Suspended") { try condition(job("later"), "Suspended")?["status"]?.stringValue == "True" }
        XCTAssertTrue(try pods("job-name=later").isEmpty)
        _ = try client.mergePatch(.jobs, name: "later", ["spec": ["suspend": false]])
        try eventually("a pod once resumed") { try activePods("job-name=later").first }
        try waitUntil("Suspended=False") { try condition(job("later"), "Suspended")?["status"]?.stringValue == "False" }
    }

    private static func index(_ pod: JSONValue) -> String? {
        pod.value(at: "metadata.annotations")?["batch.kubernetes.io/job-completion-index"]?.stringValue
    }

    /// Each index runs once at a time, a failed index runs again, and the Job completes once
    /// every index has succeeded, with `completedIndexes` in kube's interval form.
    func testIndexedJobRunsEachIndexUntilItSucceeds() throws {
        startControllers()
        _ = try createJob("ring", spec: ["completions": 3, "parallelism": 2, "completionMode": "Indexed", "backoffLimit": 3])
        let first = try eventually("two pods") { () -> [JSONValue]? in
            let active = try activePods("job-name=ring")
            return active.count == 2 ? active.sorted { (Self.index($0) ?? "") < (Self.index($1) ?? "") } : nil
        }
        XCTAssertEqual(first.map { Self.index($0) }, ["0", "1"])
        for pod in first {
            let index = try XCTUnwrap(Self.index(pod))
            XCTAssertEqual(pod.value(at: "spec.hostname")?.stringValue, "ring-\(index)")
            XCTAssertEqual(pod.labels["batch.kubernetes.io/job-completion-index"], index)
            XCTAssertTrue(pod.name?.hasPrefix("ring-\(index)-") ?? false, pod.name ?? "")
            let env = pod.value(at: "spec.containers")?.arrayValue?.first?["env"]?.arrayValue ?? []
            XCTAssertEqual(env.last?["name"], "JOB_COMPLETION_INDEX")
            XCTAssertEqual(env.last?.value(at: "valueFrom.fieldRef.fieldPath"), "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        }

        try markFinished(first[0], succeeded: true)
        let third = try eventually("index 2 started") { try activePods("job-name=ring").first { Self.index($0) == "2" } }
        try waitUntil("completedIndexes 0") { try job("ring").value(at: "status.completedIndexes")?.stringValue == "0" }

        try markFinished(first[1], succeeded: false)
        let again = try eventually("index 1 again") { try activePods("job-name=ring").first { Self.index($0) == "1" && $0.uid != first[1].uid } }
        try stays("index 0 not run again", for: 0.3) { try activePods("job-name=ring").allSatisfy { Self.index($0) != "0" } }

        try markFinished(third, succeeded: true)
        try markFinished(again, succeeded: true)
        let done = try eventually("Complete") { () -> JSONValue? in
            let job = try job("ring")
            guard condition(job, "Complete")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(done.value(at: "status.completedIndexes"), "0-2")
        XCTAssertEqual(done.value(at: "status.succeeded")?.intValue, 3)
        XCTAssertEqual(done.value(at: "status.failed")?.intValue, 1)
    }

    func testAnIndexRetriesOnItsOwnAndAFailedIndexFailsTheJobPastMaxFailedIndexes() throws {
        startControllers()
        _ = try createJob("ranks", spec: ["completions": 3, "parallelism": 3, "completionMode": "Indexed",
                                          "backoffLimitPerIndex": 1, "maxFailedIndexes": 0])
        XCTAssertEqual(try job("ranks").value(at: "spec.backoffLimit")?.intValue, Int64(Int32.max), "kube's default with a limit per index")
        let first = try eventually("three pods") { () -> [JSONValue]? in
            let active = try activePods("job-name=ranks")
            return active.count == 3 ? active.sorted { (Self.index($0) ?? "") < (Self.index($1) ?? "") } : nil
        }
        XCTAssertEqual(first.map { $0.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] }, ["0", "0", "0"])

        // Index 1 fails once: only index 1 runs again, and its new pod knows of the failure.
        try markFinished(first[1], succeeded: false)
        let retry = try eventually("index 1 again") { try activePods("job-name=ranks").first { Self.index($0) == "1" && $0.uid != first[1].uid } }
        XCTAssertEqual(retry.metadata.annotations["batch.kubernetes.io/job-index-failure-count"], "1")
        XCTAssertEqual(try activePods("job-name=ranks").count, 3)
        XCTAssertEqual(try job("ranks").value(at: "status.failedIndexes"), "")
        try markFinished(first[0], succeeded: true)
        try waitUntil("completedIndexes 0") { try job("ranks").value(at: "status.completedIndexes")?.stringValue == "0" }

        // A second failure is past the limit: the index fails, and with maxFailedIndexes 0 the Job.
        try markFinished(retry, succeeded: false)
        let failed = try eventually("Failed") { () -> JSONValue? in
            let job = try job("ranks")
            guard condition(job, "Failed")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(condition(failed, "Failed")?["reason"], "MaxFailedIndexesExceeded")
        XCTAssertEqual(failed.value(at: "status.failedIndexes"), "1")
        XCTAssertEqual(failed.value(at: "status.failed")?.intValue, 2)
        try waitUntil("index 2's pod stopped") { try activePods("job-name=ranks").isEmpty }
        XCTAssertFalse(try pods("job-name=ranks").contains { Self.index($0) == "1" && ![first[1].uid, retry.uid].contains($0.uid) },
                       "a failed index is not run again")
    }

    func testAFailedIndexWithoutMaxFailedIndexesLetsTheOthersFinish() throws {
        startControllers()
        _ = try createJob("sweep", spec: ["completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 0])
        let first = try eventually("two pods") { () -> [JSONValue]? in
            let active = try activePods("job-name=sweep")
            return active.count == 2 ? active.sorted { (Self.index($0) ?? "") < (Self.index($1) ?? "") } : nil
        }
        try markFinished(first[0], succeeded: false)
        try waitUntil("failedIndexes 0") { try job("sweep").value(at: "status.failedIndexes")?.stringValue == "0" }
        try stays("index 0 not retried, the Job still running", for: 0.3) {
            try activePods("job-name=sweep").count == 1 && condition(job("sweep"), "Failed") == nil
        }
        try markFinished(first[1], succeeded: true)
        let failed = try eventually("Failed") { () -> JSONValue? in
            let job = try job("sweep")
            guard condition(job, "Failed")?["status"]?.stringValue == "True" else { return nil }
            return job
        }
        XCTAssertEqual(condition(failed, "Failed")?["reason"], "FailedIndexes")
        XCTAssertEqual(failed.value(at: "status.completedIndexes"), "1")
    }

    func testLimitsPerIndexNeedAnIndexedJobThatNeverRestartsItsPods() throws {
        let cases: [(JSONValue, String)] = [
            (["completions": 2, "backoffLimitPerIndex": 1], "spec.backoffLimitPerIndex"),
            (["completions": 2, "completionMode": "Indexed", "maxFailedIndexes": 1], "spec.maxFailedIndexes"),
            (["completions": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 1, "maxFailedIndexes": 3], "spec.maxFailedIndexes"),
            (["completions": 2, "completionMode": "Sideways"], "spec.completionMode"),
        ]
        for (spec, field) in cases {
            XCTAssertThrowsError(try createJob("bad", spec: spec), "\(spec)") { error in
                XCTAssertTrue("\(error)".contains(field), "\(error)")
            }
        }
    }
}
