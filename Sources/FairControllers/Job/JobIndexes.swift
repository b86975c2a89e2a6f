import FairKube

/// Indexed Jobs (`completionMode: Indexed`): each pod runs one index of 0..<completions, given
/// as the `batch.kubernetes.io/job-completion-index` annotation and label, `JOB_COMPLETION_INDEX`
/// in every container, and the hostname `JOB-INDEX`, so that with a `subdomain` naming a headless
/// Service each pod is reachable as `JOB-INDEX.SUBDOMAIN` (the rendezvous distributed training
/// uses). The Job completes when every index has succeeded once; `status.completedIndexes`
/// keeps them in kube's interval form ("0-2,5").
///
/// With `backoffLimitPerIndex`, each index counts its own failures: a pod carries the failures
/// of its index before it in the `batch.kubernetes.io/job-index-failure-count` annotation (as
/// kube's Job controller writes it, so the count survives the failed pods' deletion), and an
/// index whose pod fails past the limit is listed in `status.failedIndexes` and not run again.
enum JobIndexes {
    /// Indexes already done: those in the status, and those of pods that succeeded since.
    static func completed(status: JSONValue?, pods: [JSONValue], completions: Int) -> Set<Int> {
        var done = parse(status?["completedIndexes"]?.stringValue ?? "")
        for pod in pods where pod.podPhase == "Succeeded" {
            if let index = JobIndexAnnotations.index(of: pod) { done.insert(index) }
        }
        return done.filter { $0 < completions }
    }

    /// The lowest indexes neither done, failed nor running, at most `count`.
    static func missing(completions: Int, completed: Set<Int>, failed: Set<Int> = [], active: [JSONValue], count: Int) -> [Int] {
        let running = Set(active.compactMap(JobIndexAnnotations.index(of:)))
        return Array((0..<completions).lazy.filter { !completed.contains($0) && !failed.contains($0) && !running.contains($0) }
            .prefix(max(0, count)))
    }

    /// How often each index has failed: the most any of its pods knows of, its own failure
    /// included. Pods the controller deleted on purpose (`excused`) did not fail.
    static func failureCounts(pods: [JSONValue], excused: Set<String>) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for pod in pods {
            guard let index = JobIndexAnnotations.index(of: pod) else { continue }
            let failedItself = PodOutcome.of(pod) == .failed && !excused.contains(pod.uid ?? "")
            counts[index] = max(counts[index] ?? 0, JobIndexAnnotations.earlierFailures(of: pod) + (failedItself ? 1 : 0))
        }
        return counts
    }

    /// Indexes failed for good: those in the status, and those whose failures passed the limit.
    static func failed(status: JSONValue?, failureCounts: [Int: Int], limit: Int64, completions: Int) -> Set<Int> {
        var failed = parse(status?["failedIndexes"]?.stringValue ?? "")
        for (index, count) in failureCounts where Int64(count) > limit { failed.insert(index) }
        return failed.filter { $0 < completions }
    }

    /// The pod for one index, from the pod the template makes.
    static func pod(_ template: JSONValue, index: Int, jobName: String, earlierFailures: Int? = nil) -> JSONValue {
        var typed = Pod(json: template)
        var metadata = typed.metadata
        metadata.annotations[JobIndexAnnotations.completionIndex] = String(index)
        if let earlierFailures { metadata.annotations[JobIndexAnnotations.failureCount] = String(earlierFailures) }
        metadata.labels[JobIndexAnnotations.completionIndex] = String(index)
        metadata.generateName = PodTemplate.generateNamePrefix(for: "\(jobName)-\(index)")
        typed.metadata = metadata
        var pod = typed.json
        if (pod.value(at: "spec.hostname")?.stringValue ?? "").isEmpty {
            pod.set(.string("\(jobName)-\(index)"), at: "spec.hostname")
        }
        let variable: JSONValue = ["name": "JOB_COMPLETION_INDEX",
                                   "valueFrom": ["fieldRef": ["fieldPath": .string("metadata.annotations['\(JobIndexAnnotations.completionIndex)']")]]]
        for field in ["containers", "initContainers"] {
            guard var containers = pod.value(at: "spec.\(field)")?.arrayValue else { continue }
            for position in containers.indices {
                var env = containers[position]["env"]?.arrayValue ?? []
                env.removeAll { $0["name"]?.stringValue == "JOB_COMPLETION_INDEX" }
                env.append(variable)
                containers[position]["env"] = .array(env)
            }
            pod.set(.array(containers), at: "spec.\(field)")
        }
        return pod
    }

    /// "0-2,5" → {0, 1, 2, 5}; what does not parse is skipped.
    static func parse(_ text: String) -> Set<Int> {
        var indexes = Set<Int>()
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).compactMap { Int($0) }
            if bounds.count == 2, bounds[0] <= bounds[1] {
                indexes.formUnion(bounds[0]...bounds[1])
            } else if bounds.count == 1, !part.contains("-") {
                indexes.insert(bounds[0])
            }
        }
        return indexes
    }

    /// {0, 1, 2, 5} → "0-2,5"; nil for none (the field is left out).
    static func format(_ indexes: Set<Int>) -> String? {
        let sorted = indexes.sorted()
        guard var start = sorted.first else { return nil }
        var parts: [String] = [], end = start
        for index in sorted.dropFirst() {
            if index == end + 1 { end = index; continue }
            parts.append(start == end ? "\(start)" : "\(start)-\(end)")
            start = index
            end = index
        }
        parts.append(start == end ? "\(start)" : "\(start)-\(end)")
        return parts.joined(separator: ",")
    }
}
