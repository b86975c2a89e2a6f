import FairKube
import FairScheduler
import Foundation

/// What `fair-bench scheduling` measured, as a summary for people or one JSON object.
struct SchedulingResult {
    static let goalPodsPerSecond = 1000.0
    /// Kubernetes' API call latency SLO for single objects.
    static let sloSeconds = 1.0

    var nodes: Int
    var pods: Int
    var clients: Int
    var schedulerInProcess: Bool
    var bound = 0
    /// First create sent → last create answered.
    var createSeconds = 0.0
    /// First create sent → last pod seen bound.
    var scheduleSeconds = 0.0
    var createToBound = LatencySamples.Summary(count: 0, failures: 0, p50: 0, p99: 0, max: 0)
    var create = LatencySamples.Summary(count: 0, failures: 0, p50: 0, p99: 0, max: 0)
    var get = LatencySamples.Summary(count: 0, failures: 0, p50: 0, p99: 0, max: 0)
    var list = LatencySamples.Summary(count: 0, failures: 0, p50: 0, p99: 0, max: 0)
    var scheduler: SchedulerStatistics?
    var cleanupSeconds = 0.0

    var podsPerSecond: Double { scheduleSeconds > 0 ? Double(bound) / scheduleSeconds : 0 }
    var createsPerSecond: Double { createSeconds > 0 ? Double(create.count) / createSeconds : 0 }

    var summary: String {
        func ms(_ seconds: Double) -> String { String(format: "%8.1f ms", seconds * 1000) }
        func row(_ label: String, _ s: LatencySamples.Summary) -> String {
            "    \(label.padding(toLength: 14, withPad: " ", startingAt: 0))\(ms(s.p50))\(ms(s.p99))\(ms(s.max))  \(String(format: "%6d", s.count))"
                + (s.failures > 0 ? "  (\(s.failures) failed)" : "")
        }
        var lines = [
            "scheduling: \(pods) pods on \(nodes) nodes, \(clients) client threads, scheduler \(schedulerInProcess ? "in the benchmark process" : "in the server")",
            String(format: "  created in       %7.2f s  (%.0f pods/s)", createSeconds, createsPerSecond),
            bound == pods
                ? String(format: "  all bound after  %7.2f s  → %.0f pods/s (goal ≥ %.0f)", scheduleSeconds, podsPerSecond, Self.goalPodsPerSecond)
                : "  only \(bound) of \(pods) pods bound before the timeout",
            "  create → bound   p50 \(ms(createToBound.p50))   p99 \(ms(createToBound.p99))",
            "  API latency under load (SLO: p99 < 1 s)       p50         p99         max       n",
            row("create", create),
            row("get pod", get),
            row("list 500 pods", list),
        ]
        if let scheduler {
            lines.append("  scheduler: \(scheduler.scheduled) bound, \(scheduler.bindingErrors) binding errors, "
                         + "\(scheduler.unschedulableAttempts) unschedulable attempts, "
                         + "events \(scheduler.eventsWritten) written / \(scheduler.eventsDropped) skipped")
        }
        lines.append(String(format: "  clean-up (namespace and nodes deleted) %.2f s", cleanupSeconds))
        return lines.joined(separator: "\n")
    }

    var json: String {
        func latency(_ s: LatencySamples.Summary) -> JSONValue {
            ["count": .int(Int64(s.count)), "failures": .int(Int64(s.failures)),
             "p50_seconds": .double(s.p50), "p99_seconds": .double(s.p99), "max_seconds": .double(s.max)]
        }
        var object: JSONValue = [
            "benchmark": "scheduling", "nodes": .int(Int64(nodes)), "pods": .int(Int64(pods)), "clients": .int(Int64(clients)),
            "scheduler_in_process": .bool(schedulerInProcess), "bound": .int(Int64(bound)),
            "create_seconds": .double(createSeconds), "creates_per_second": .double(createsPerSecond),
            "schedule_seconds": .double(scheduleSeconds), "pods_per_second": .double(podsPerSecond),
            "goal_pods_per_second": .double(Self.goalPodsPerSecond),
            "create_to_bound": latency(createToBound),
            "api": ["create": latency(create), "get": latency(get), "list": latency(list)],
            "cleanup_seconds": .double(cleanupSeconds),
        ]
        if let scheduler {
            object["scheduler"] = ["scheduled": .int(Int64(scheduler.scheduled)), "binding_errors": .int(Int64(scheduler.bindingErrors)),
                                   "unschedulable_attempts": .int(Int64(scheduler.unschedulableAttempts)),
                                   "events_written": .int(Int64(scheduler.eventsWritten)), "events_dropped": .int(Int64(scheduler.eventsDropped))]
        }
        return String(decoding: JSONCoding.encode(object), as: UTF8.self)
    }
}
