import FairKube
import Foundation

/// `status.conditions` lists, edited the way the API conventions ask: one entry per type, and
/// `lastTransitionTime` moves only when the status does.
struct Conditions {
    var items: [JSONValue]

    init(_ status: JSONValue?) { items = status?["conditions"]?.arrayValue ?? [] }

    func get(_ type: String) -> JSONValue? { items.first { $0["type"]?.stringValue == type } }

    func isTrue(_ type: String) -> Bool { get(type)?["status"]?.stringValue == "True" }

    /// Sets a condition. `probeField` names the timestamp that records every check
    /// (`lastProbeTime` for Jobs, `lastUpdateTime` for Deployments, nil for none). An identical
    /// condition is left alone unless `touch` asks to record a new check (a rollout's progress).
    mutating func set(_ type: String, status: String, reason: String, message: String,
                      now: String, probeField: String? = nil, touch: Bool = false) {
        let existing = get(type)
        let unchanged = existing?["status"]?.stringValue == status
        if unchanged, !touch, existing?["reason"]?.stringValue == reason, existing?["message"]?.stringValue == message {
            return
        }
        var condition: JSONValue = ["type": .string(type), "status": .string(status),
                                    "reason": .string(reason), "message": .string(message)]
        condition["lastTransitionTime"] = unchanged ? (existing?["lastTransitionTime"] ?? .string(now)) : .string(now)
        if let probeField { condition[probeField] = .string(now) }
        if let index = items.firstIndex(where: { $0["type"]?.stringValue == type }) {
            items[index] = condition
        } else {
            items.append(condition)
        }
    }

    mutating func remove(_ type: String) { items.removeAll { $0["type"]?.stringValue == type } }

    var json: JSONValue? { items.isEmpty ? nil : .array(items) }
}
