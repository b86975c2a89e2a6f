import FairKube
import Foundation

extension ReconcileResult {
    /// Look again after the shortest of `delays` (nil ones ignored), or only on the next change.
    static func soonest(_ delays: TimeInterval?...) -> ReconcileResult {
        guard let delay = delays.compactMap({ $0 }).min() else { return .done }
        return .requeue(after: max(0.01, delay))
    }

    var delay: TimeInterval? {
        if case let .requeue(after) = self { return after }
        return nil
    }
}
