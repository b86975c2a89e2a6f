import FairSupport

/// How a `Scheduler` runs.
public struct SchedulerOptions: Sendable {
    /// Pods whose `spec.schedulerName` is this (or absent) are ours; others are left alone.
    public var name = "default-scheduler"
    /// Threads that send bindings (and status updates), so one slow request never stalls the
    /// decision loop.
    public var bindWorkers = 8
    /// Successful bindings get a `Scheduled` event at most this often per second, beyond a burst
    /// of `scheduledEventBurst`: under a flood of pods, events would otherwise cost as many writes
    /// as the bindings themselves. `FailedScheduling` events are not limited.
    public var scheduledEventsPerSecond = 50.0
    public var scheduledEventBurst = 200
    /// The time back-offs run on and conditions and events are stamped with.
    public var clock: WallClock = SystemClock.shared

    public init() {}
}
