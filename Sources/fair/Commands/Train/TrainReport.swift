import FairKube
import FairWorkloads
import Foundation

/// What `fair train --output-format json|yaml` prints.
struct TrainReport {
    struct Timings {
        var build: Double
        var push: Double
        var schedule: Double?
        var start: Double?
        var run: Double?
        var model: Double?
        var total: Double

        var json: JSONValue {
            var object: [String: JSONValue] = ["build": Self.rounded(build), "push": Self.rounded(push), "total": Self.rounded(total)]
            if let schedule { object["schedule"] = Self.rounded(schedule) }
            if let start { object["start"] = Self.rounded(start) }
            if let run { object["run"] = Self.rounded(run) }
            if let model { object["model"] = Self.rounded(model) }
            return .object(object)
        }

        var summary: String {
            var parts = ["build \(Self.seconds(build))", "push \(Self.seconds(push))"]
            if let schedule { parts.append("schedule \(Self.seconds(schedule))") }
            if let start { parts.append("start \(Self.seconds(start))") }
            if let run { parts.append("run \(Self.seconds(run))") }
            if let model { parts.append("model \(Self.seconds(model))") }
            return parts.joined(separator: ", ") + "; \(Self.seconds(total)) in all"
        }

        static func rounded(_ value: Double) -> JSONValue { .double((value * 1000).rounded() / 1000) }
        static func seconds(_ value: Double) -> String { String(format: "%.1fs", value) }
    }

    var job: String
    var namespace: String
    var image: String
    var outcome: JobOutcome
    var model: JSONValue?
    var timings: Timings

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "job": .string(job), "namespace": .string(namespace), "image": .string(image),
            "state": .string(outcome.state.rawValue), "attempts": .int(Int64(outcome.attempts)),
            "timings": timings.json,
        ]
        if let reason = outcome.reason { object["reason"] = .string(reason) }
        if let message = outcome.message { object["message"] = .string(message) }
        if let pod = outcome.pod { object["pod"] = .string(pod) }
        if let model, model["reference"] != nil { object["model"] = model }
        return .object(object)
    }
}
