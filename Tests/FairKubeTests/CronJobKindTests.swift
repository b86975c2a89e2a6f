import FairKube
import Foundation
import XCTest

/// batch/v1 CronJob as kube-apiserver defaults, checks and prints it.
final class CronJobKindTests: XCTestCase {
    private let kind = KindDefinition.cronJob

    private func cronJob(name: String = "nightly", _ spec: [String: JSONValue] = [:]) -> JSONValue {
        var object: JSONValue = [
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": .string(name)],
            "spec": ["schedule": "*/5 * * * *",
                     "jobTemplate": ["spec": ["template": ["spec": ["containers": [["name": "c", "image": "i:1"]], "restartPolicy": "OnFailure"]]]]],
        ]
        for (key, value) in spec { object.set(value, at: ["spec", key]) }
        kind.defaults(&object)
        return object
    }

    private func causes(_ object: JSONValue) -> [String] { kind.validate(object).map { "\($0.field): \($0.message)" } }

    func testDiscoveryNames() {
        XCTAssertEqual(kind.apiVersion, "batch/v1")
        XCTAssertEqual(kind.plural, "cronjobs")
        XCTAssertEqual(kind.singular, "cronjob")
        XCTAssertEqual(kind.shortNames, ["cj"])
        XCTAssertEqual(kind.categories, ["all"])
        XCTAssertEqual(kind.subresources, ["status"])
        XCTAssertTrue(kind.namespaced)
        XCTAssertEqual(KindCatalog.find(apiVersion: "batch/v1", kind: "CronJob"), kind)
        XCTAssertEqual(APIResource.cronJobs.plural, "cronjobs")
    }

    func testDefaultsAreKubeApiserversAndTheTemplatesPodSpecOnly() {
        let object = cronJob()
        XCTAssertEqual(object.value(at: "spec.concurrencyPolicy"), "Allow")
        XCTAssertEqual(object.value(at: "spec.suspend"), false)
        XCTAssertEqual(object.value(at: "spec.successfulJobsHistoryLimit"), .int(3))
        XCTAssertEqual(object.value(at: "spec.failedJobsHistoryLimit"), .int(1))
        XCTAssertEqual(object.value(at: "spec.jobTemplate.spec.template.spec.dnsPolicy"), "ClusterFirst")
        XCTAssertEqual(object.value(at: "spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds"), .int(30))
        // A Job's own defaults come when the controller creates one.
        XCTAssertNil(object.value(at: "spec.jobTemplate.spec.backoffLimit"))
        XCTAssertNil(object.value(at: "spec.startingDeadlineSeconds"))
        XCTAssertEqual(causes(object), [])
        // Set values stay.
        let set = cronJob(["concurrencyPolicy": "Forbid", "suspend": true, "successfulJobsHistoryLimit": 0])
        XCTAssertEqual(set.value(at: "spec.concurrencyPolicy"), "Forbid")
        XCTAssertEqual(set.value(at: "spec.suspend"), true)
        XCTAssertEqual(set.value(at: "spec.successfulJobsHistoryLimit"), .int(0))
    }

    func testScheduleMustParseAndNameNoZone() {
        XCTAssertEqual(causes(cronJob(["schedule": "61 * * * *"])),
                       ["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"])
        XCTAssertEqual(causes(cronJob(["schedule": "every day"])),
                       ["spec.schedule: Invalid value: \"every day\": expected exactly 5 fields, found 2: [every day]"])
        XCTAssertEqual(causes(cronJob(["schedule": ""])), ["spec.schedule: Required value"])
        XCTAssertEqual(causes(cronJob(["schedule": "TZ=Europe/Paris 0 9 * * *"])),
                       ["spec.schedule: Invalid value: \"TZ=Europe/Paris 0 9 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"])
        XCTAssertEqual(causes(cronJob(["schedule": "CRON_TZ=UTC 0 9 * * *", "timeZone": "UTC"])),
                       ["spec.schedule: Invalid value: \"CRON_TZ=UTC 0 9 * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"])
        for accepted in ["@hourly", "@every 2h", "0 0 ? * MON-FRI", "*/1 * * * *", "0 0 29 2 *"] {
            XCTAssertEqual(causes(cronJob(["schedule": .string(accepted)])), [], accepted)
        }
    }

    func testTimeZoneMustBeAnIANAName() {
        XCTAssertEqual(causes(cronJob(["timeZone": "America/New_York"])), [])
        XCTAssertEqual(causes(cronJob(["timeZone": "Etc/UTC"])), [])
        XCTAssertEqual(causes(cronJob(["timeZone": "Mars/Olympus"])),
                       ["spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"])
        XCTAssertEqual(causes(cronJob(["timeZone": "../etc/passwd"])),
                       ["spec.timeZone: Invalid value: \"../etc/passwd\": unknown time zone ../etc/passwd"])
        XCTAssertEqual(causes(cronJob(["timeZone": "Local"])),
                       ["spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"])
        XCTAssertEqual(causes(cronJob(["timeZone": ""])), ["spec.timeZone: Invalid value: \"\": timeZone must be nil or non-empty string"])
    }

    func testPolicyLimitsDeadlineAndName() {
        XCTAssertEqual(causes(cronJob(["concurrencyPolicy": "Sometimes"])),
                       ["spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""])
        XCTAssertEqual(causes(cronJob(["startingDeadlineSeconds": -1])),
                       ["spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"])
        XCTAssertEqual(causes(cronJob(["successfulJobsHistoryLimit": -1, "failedJobsHistoryLimit": -2])),
                       ["spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                        "spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0"])
        XCTAssertEqual(causes(cronJob(["startingDeadlineSeconds": 0])), [])
        let longest = String(repeating: "a", count: 52)
        XCTAssertEqual(causes(cronJob(name: longest)), [])
        XCTAssertEqual(causes(cronJob(name: longest + "b")),
                       ["metadata.name: Invalid value: \"\(longest)b\": must be no more than 52 characters"])
    }

    func testTheJobTemplateIsAJobs() {
        // Without a restart policy the pod spec's default, Always, is one no Job may use.
        var object: JSONValue = ["metadata": ["name": "n"],
                                 "spec": ["schedule": "@daily", "jobTemplate": ["spec": ["template": ["spec": ["containers": [["name": "c", "image": "i"]]]]]]]]
        kind.defaults(&object)
        XCTAssertEqual(causes(object), ["spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""])
        object.set(["matchLabels": ["a": "b"]], at: "spec.jobTemplate.spec.selector")
        object.set("Never", at: "spec.jobTemplate.spec.template.spec.restartPolicy")
        object.set(.int(-1), at: "spec.jobTemplate.spec.backoffLimit")
        XCTAssertEqual(causes(object), ["spec.jobTemplate.spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
                                        "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated"])
        object.set(nil, at: "spec.jobTemplate.spec.template.spec.containers")
        XCTAssertTrue(causes(object).contains("spec.jobTemplate.spec.template.spec.containers: Required value"))
    }

    func testColumnsAreKubectls() throws {
        var object = cronJob(["timeZone": "Europe/Paris"])
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        object.set(.string(KubeTime.format(created)), at: "metadata.creationTimestamp")
        object.set(.string(KubeTime.format(created.addingTimeInterval(3000))), at: "status.lastScheduleTime")
        object.set([["kind": "Job", "name": "nightly-29453760"]], at: "status.active")
        let now = created.addingTimeInterval(3600)
        XCTAssertEqual(kind.columns.map(\.name), ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age",
                                                  "Containers", "Images", "Selector"])
        XCTAssertEqual(kind.columns.map(\.priority), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(kind.columns.map { $0.value(object, now) },
                       ["nightly", "*/5 * * * *", "Europe/Paris", "False", .int(1), "10m", "60m", "c", "i:1", "<none>"])
        var bare = cronJob()
        bare.set(nil, at: "spec.suspend")
        XCTAssertEqual(kind.columns[2].value(bare, now), "<none>")
        XCTAssertEqual(kind.columns[3].value(bare, now), "<unset>")
        XCTAssertEqual(kind.columns[5].value(bare, now), "<none>")
    }
}
