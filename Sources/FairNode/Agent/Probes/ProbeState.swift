import Foundation

/// The running tally of one probe of one container instance, as kubelet's prober keeps it.
struct ProbeState {
    let spec: ProbeSpec
    var nextDue: Date
    var successes = 0
    var failures = 0
    /// Readiness starts false, liveness true, until thresholds say otherwise.
    var passing: Bool
    var lastMessage = ""

    init(spec: ProbeSpec, containerStarted: Date, initiallyPassing: Bool) {
        self.spec = spec
        nextDue = containerStarted.addingTimeInterval(spec.initialDelay)
        passing = initiallyPassing
    }

    mutating func record(_ result: Prober.Result, at now: Date) {
        nextDue = now.addingTimeInterval(spec.period)
        lastMessage = result.message
        if result.success {
            successes += 1
            failures = 0
            if successes >= spec.successThreshold { passing = true }
        } else {
            failures += 1
            successes = 0
            if failures >= spec.failureThreshold { passing = false }
        }
    }
}
