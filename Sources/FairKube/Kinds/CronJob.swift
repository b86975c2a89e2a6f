import Foundation

extension KindDefinition {
    public static let cronJob = KindDefinition(
        group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", namespaced: true,
        shortNames: ["cj"], categories: ["all"], subresources: ["status"],
        defaults: { object in
            // kube's SetDefaults_CronJob. The job template gets only its pod spec's defaults, as
            // in Kubernetes: a Job's own defaults are applied when the controller creates it.
            if (object.value(at: "spec.concurrencyPolicy")?.stringValue ?? "").isEmpty {
                object.set("Allow", at: ["spec", "concurrencyPolicy"])
            }
            if object.value(at: "spec.suspend") == nil { object.set(false, at: ["spec", "suspend"]) }
            if object.value(at: "spec.successfulJobsHistoryLimit") == nil { object.set(.int(3), at: ["spec", "successfulJobsHistoryLimit"]) }
            if object.value(at: "spec.failedJobsHistoryLimit") == nil { object.set(.int(1), at: ["spec", "failedJobsHistoryLimit"]) }
            PodSpecRules.applyDefaults(&object, at: ["spec", "jobTemplate", "spec", "template", "spec"])
        },
        validate: { validateCronJob($0) },
        columns: [
            .name,
            .text("Schedule", "spec.schedule", or: ""),
            .text("Timezone", "spec.timeZone", or: "<none>"),
            TableColumn(name: "Suspend", type: "boolean") { object, _ in
                // kubectl's printBoolPtr: the word, "<unset>" for an absent field.
                .string(object.value(at: "spec.suspend")?.boolValue.map { $0 ? "True" : "False" } ?? "<unset>")
            },
            TableColumn(name: "Active", type: "integer") { object, _ in
                .int(Int64(object.value(at: "status.active")?.arrayValue?.count ?? 0))
            },
            TableColumn(name: "Last Schedule") { object, now in
                guard let last = KubeTime.parse(object.value(at: "status.lastScheduleTime")) else { return "<none>" }
                return .string(Printing.humanDuration(now.timeIntervalSince(last)))
            },
            .age,
            TableColumn(name: "Containers", priority: 1) { object, _ in
                .string(jobTemplateContainers(object).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
            },
            TableColumn(name: "Images", priority: 1) { object, _ in
                .string(jobTemplateContainers(object).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
            },
            TableColumn(name: "Selector", priority: 1) { object, _ in
                .string(Printing.selectorText(object.value(at: "spec.jobTemplate.spec.selector")))
            },
        ])

    /// Job names are the CronJob's and `-` and the scheduled minute (up to 10 digits), and must
    /// fit in 63 characters.
    public static let cronJobMaxNameLength = 52

    private static func jobTemplateContainers(_ object: JSONValue) -> [JSONValue] {
        object.value(at: "spec.jobTemplate.spec.template.spec.containers")?.arrayValue ?? []
    }

    /// kube's ValidateCronJobCreate (the name's length is checked on every write here: a name
    /// cannot change, so only a create can break it).
    private static func validateCronJob(_ object: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        if let name = object.name, name.count > cronJobMaxNameLength {
            causes.append(FieldCause("metadata.name", "Invalid value: \(ConfigDataRules.quoted(name)): must be no more than 52 characters"))
        }
        let timeZone = object.value(at: "spec.timeZone")?.stringValue
        let schedule = object.value(at: "spec.schedule")?.stringValue ?? ""
        if schedule.isEmpty {
            causes.append(FieldCause("spec.schedule", "Required value"))
        } else {
            let invalid = "Invalid value: \(ConfigDataRules.quoted(schedule)): "
            do {
                _ = try CronSchedule(parsing: schedule)
            } catch {
                causes.append(FieldCause("spec.schedule", invalid + error.message))
            }
            if schedule.contains("TZ") {
                causes.append(FieldCause("spec.schedule", invalid + "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            }
        }
        if let timeZone { causes += validateTimeZone(timeZone) }
        for field in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            if let value = object.value(at: "spec.\(field)")?.intValue, value < 0 {
                causes.append(FieldCause("spec.\(field)", "Invalid value: \(value): must be greater than or equal to 0"))
            }
        }
        let policy = object.value(at: "spec.concurrencyPolicy")?.stringValue ?? ""
        if policy.isEmpty {
            causes.append(FieldCause("spec.concurrencyPolicy", "Required value"))
        } else if !["Allow", "Forbid", "Replace"].contains(policy) {
            causes.append(FieldCause("spec.concurrencyPolicy",
                                     "Unsupported value: \(ConfigDataRules.quoted(policy)): supported values: \"Allow\", \"Forbid\", \"Replace\""))
        }
        return causes + validateJobTemplate(object.value(at: "spec.jobTemplate.spec"))
    }

    /// kube's validateTimeZone: an IANA name (each part of letters, digits, `.`, `-`, `_`, `+`, at
    /// most 14 long), not `Local`, and known to the tz database.
    private static func validateTimeZone(_ timeZone: String) -> [FieldCause] {
        let invalid = "Invalid value: \(ConfigDataRules.quoted(timeZone)): "
        guard !timeZone.isEmpty else { return [FieldCause("spec.timeZone", invalid + "timeZone must be nil or non-empty string")] }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+")
        for part in timeZone.split(separator: "/", omittingEmptySubsequences: false) {
            if part == "." || part == ".." || part.hasPrefix("-") || part.isEmpty || part.count > 14 || !part.allSatisfy(allowed.contains) {
                return [FieldCause("spec.timeZone", invalid + "unknown time zone \(timeZone)")]
            }
        }
        if timeZone.lowercased() == "local" {
            return [FieldCause("spec.timeZone", invalid + "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
        }
        do {
            _ = try CronTimeZone.named(timeZone)
        } catch {
            return [FieldCause("spec.timeZone", invalid + error.message)]
        }
        return []
    }

    /// kube's ValidateJobTemplateSpec: the Job's pod spec, a restart policy a Job can use, and no
    /// selector (each Job's is generated when it is created).
    private static func validateJobTemplate(_ spec: JSONValue?) -> [FieldCause] {
        let path = "spec.jobTemplate.spec"
        guard let spec else { return [FieldCause("\(path).template.spec.containers", "Required value")] }
        var causes = PodSpecRules.validate(spec.value(at: "template.spec"), path: "\(path).template.spec")
        if let policy = spec.value(at: "template.spec.restartPolicy")?.stringValue, policy != "OnFailure", policy != "Never" {
            causes.append(FieldCause("\(path).template.spec.restartPolicy",
                                     "Unsupported value: \(ConfigDataRules.quoted(policy)): supported values: \"OnFailure\", \"Never\""))
        }
        for field in ["parallelism", "completions", "backoffLimit"] {
            if let value = spec[field]?.intValue, value < 0 {
                causes.append(FieldCause("\(path).\(field)", "Invalid value: \(value): must be greater than or equal to 0"))
            }
        }
        if let selector = spec["selector"], !selector.isNull {
            causes.append(FieldCause("\(path).selector", "Invalid value: `selector` will be auto-generated"))
        }
        if spec["manualSelector"]?.boolValue == true {
            causes.append(FieldCause("\(path).manualSelector", "Unsupported value: true: supported values: \"nil\", \"false\""))
        }
        return causes
    }
}

extension APIResource {
    public static let cronJobs = KindDefinition.cronJob.resource
}
