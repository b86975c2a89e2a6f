import Foundation

extension KindDefinition {
    public static let job = KindDefinition(
        group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true,
        categories: ["all"], subresources: ["status"], selectableFields: ["status.successful"],
        prepareCreate: { generateSelector(&$0) },
        defaults: { object in
            if object.value(at: "spec.parallelism") == nil { object.set(.int(1), at: ["spec", "parallelism"]) }
            if object.value(at: "spec.completions") == nil { object.set(.int(1), at: ["spec", "completions"]) }
            if object.value(at: "spec.backoffLimit") == nil {
                object.set(.int(Job(json: object).spec.backoffLimitOrDefault), at: ["spec", "backoffLimit"])
            }
            if object.value(at: "spec.completionMode") == nil { object.set("NonIndexed", at: ["spec", "completionMode"]) }
            if object.value(at: "spec.template.spec.restartPolicy") == nil {
                object.set("Never", at: ["spec", "template", "spec", "restartPolicy"])
            }
            PodSpecRules.applyDefaults(&object, at: ["spec", "template", "spec"])
        },
        validate: { job in
            PodSpecRules.validateTemplate(job, selectorRequired: job.value(at: "spec.manualSelector")?.boolValue == true)
                + validateCompletionMode(job)
        },
        columns: [
            .name,
            TableColumn(name: "Status") { object, _ in .string(Self.jobStatus(object)) },
            TableColumn(name: "Completions") { object, _ in
                .string("\(Printing.int(object, "status.succeeded"))/\(object.value(at: "spec.completions")?.intValue ?? 1)")
            },
            TableColumn(name: "Duration") { object, now in .string(Self.duration(object, now: now)) },
            .age,
        ] + TableColumn.workload)

    /// A new Job's selector and pod labels, as kube-apiserver generates them unless the Job set
    /// `manualSelector: true`: the template is labelled with the Job's uid and name (legacy and
    /// `batch.kubernetes.io/` keys), and the selector matches the uid, so a Job's pods are
    /// exactly those it made (`kubectl logs job/X`, `kubectl describe job`).
    static func generateSelector(_ job: inout JSONValue) {
        guard job.value(at: "spec.manualSelector")?.boolValue != true,
              let uid = job.uid, let name = job.name, job.value(at: "spec.template") != nil else { return }
        var labels = job.value(at: "spec.template.metadata.labels")?.objectValue ?? [:]
        for (key, value) in [("controller-uid", uid), ("batch.kubernetes.io/controller-uid", uid),
                             ("job-name", name), ("batch.kubernetes.io/job-name", name)] where labels[key] == nil {
            labels[key] = .string(value)
        }
        job.set(.object(labels), at: ["spec", "template", "metadata", "labels"])
        var matchLabels = job.value(at: "spec.selector.matchLabels")?.objectValue ?? [:]
        matchLabels["batch.kubernetes.io/controller-uid"] = .string(uid)
        job.set(.object(matchLabels), at: ["spec", "selector", "matchLabels"])
    }

    /// kube-apiserver's rules for Indexed Jobs and their limits per index.
    static func validateCompletionMode(_ job: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        let mode = job.value(at: "spec.completionMode")?.stringValue ?? "NonIndexed"
        let completions = job.value(at: "spec.completions")?.intValue
        if !["NonIndexed", "Indexed"].contains(mode) {
            causes.append(FieldCause("spec.completionMode", "Unsupported value: \"\(mode)\": supported values: \"NonIndexed\", \"Indexed\""))
        }
        if mode == "Indexed" && completions == nil {
            causes.append(FieldCause("spec.completions", "Required value: when completion mode is Indexed"))
        }
        for field in ["backoffLimitPerIndex", "maxFailedIndexes"] {
            if let value = job.value(at: "spec.\(field)")?.intValue, value < 0 {
                causes.append(FieldCause("spec.\(field)", "Invalid value: \(value): must be greater than or equal to 0"))
            }
        }
        if job.value(at: "spec.backoffLimitPerIndex")?.intValue != nil {
            if mode != "Indexed" {
                causes.append(FieldCause("spec.backoffLimitPerIndex", "Invalid value: requires indexed completion mode"))
            }
            if let policy = job.value(at: "spec.template.spec.restartPolicy")?.stringValue, policy != "Never" {
                causes.append(FieldCause("spec.backoffLimitPerIndex", "Invalid value: requires the pod template's restartPolicy Never, not \(policy)"))
            }
        }
        if let maxFailed = job.value(at: "spec.maxFailedIndexes")?.intValue {
            if job.value(at: "spec.backoffLimitPerIndex")?.intValue == nil {
                causes.append(FieldCause("spec.maxFailedIndexes", "Invalid value: \(maxFailed): cannot be set without backoffLimitPerIndex"))
            } else if let completions, maxFailed > completions {
                causes.append(FieldCause("spec.maxFailedIndexes", "Invalid value: \(maxFailed): must be less than or equal to completions"))
            }
        }
        return causes
    }

    private static func jobStatus(_ job: JSONValue) -> String {
        let conditions = (job.value(at: "status.conditions")?.arrayValue ?? []).filter { $0["status"]?.stringValue == "True" }
        if conditions.contains(where: { $0["type"]?.stringValue == "Complete" }) { return "Complete" }
        if conditions.contains(where: { $0["type"]?.stringValue == "Failed" }) { return "Failed" }
        if job.value(at: "spec.suspend")?.boolValue == true { return "Suspended" }
        return "Running"
    }

    private static func duration(_ job: JSONValue, now: Date) -> String {
        guard let start = KubeTime.parse(job.value(at: "status.startTime")) else { return "" }
        let end = KubeTime.parse(job.value(at: "status.completionTime")) ?? now
        return Printing.humanDuration(end.timeIntervalSince(start))
    }
}

extension APIResource {
    public static let jobs = KindDefinition.job.resource
}
