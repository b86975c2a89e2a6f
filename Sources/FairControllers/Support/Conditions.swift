import FairKube
import Foundation

/// `status.conditions` lists, edited the way the API conventions ask: one entry per type, and
/// `lastTransitionTime` moves only when the status does.
struct Conditions {
    var items: [Condition]

    init(_ status: JSONValue?) { items = (status?["conditions"]?.arrayValue ?? []).map { Condition(json: $0) } }

    func get(_ type: String) -> Condition? { items[type] }

    func isTrue(_ type: String) -> Bool { get(type)?.isTrue ?? false }

    /// Sets a condition. `probeField` names the timestamp that records every check
    /// (`lastProbeTime` for Jobs, `lastUpdateTime` for Deployments, nil for none). An identical
    /// condition is left alone unless `touch` asks to record a new check (a rollout's progress).
    mutating func set(_ type: String, status: String, reason: String, message: String,
                      now: String, probeField: String? = nil, touch: Bool = false) {
        let existing = get(type)
        let unchanged = existing?.status == status
        if unchanged, !touch, existing?.reason == reason, existing?.message == message {
            return
        }
        var condition = Condition()
        condition.type = type
        condition.status = status
        condition.reason = reason
        condition.message = message
        condition.stampTransition(since: existing, now: now)
        if let probeField { condition.json[probeField] = .string(now) }
        if let index = items.firstIndex(where: { $0.type == type }) {
            items[index] = condition
        } else {
            items.append(condition)
        }
    }

    mutating func remove(_ type: String) { items.removeAll { $0.type == type } }

    var json: JSONValue? { items.isEmpty ? nil : .array(items.map(\.json)) }
}
