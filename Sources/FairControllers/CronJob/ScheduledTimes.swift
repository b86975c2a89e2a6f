import FairKube
import Foundation

/// When a CronJob should have started a Job and when to look at it next, computed as
/// kube-controller-manager's cronjob controller does from the last scheduled time (or the
/// creation time) and now, never by remembering timers: after a restart, or a pause of any
/// length, the same answer comes out, and only the most recent missed time is run.
struct ScheduledTimes {
    let schedule: CronSchedule
    let zone: TimeZone
    /// `status.lastScheduleTime`, else `metadata.creationTimestamp`.
    let earliest: Date
    let startingDeadlineSeconds: Int64?

    /// Past this many missed times a warning says so (the most recent still runs).
    static let manyMissed = 100
    /// Looking again a little after a time is due, so a clock a little behind still sees it due.
    static let wakeUpDelta: TimeInterval = 0.1

    enum Missed: Equatable {
        case none, few, many
    }

    /// The schedule fires at the same time twice (Feb 30): no next time can be worked out.
    struct InvalidSchedule: Error, CustomStringConvertible {
        var description: String { "time difference between two schedules is less than 1 second" }
    }

    init(schedule: CronSchedule, zone: TimeZone, cronJob: CronJob) {
        self.schedule = schedule
        self.zone = zone
        earliest = cronJob.status.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? Date(timeIntervalSince1970: 0)
        startingDeadlineSeconds = cronJob.spec.startingDeadlineSeconds
    }

    func next(after date: Date) -> Date? { schedule.next(after: date, in: zone) }

    /// The most recent time at or before `now` that the schedule fired after `earliest` (or
    /// after `now` less the starting deadline, when that is later and `withinDeadline`), and how
    /// many were missed. Counting every missed time could take forever after a long pause, so
    /// they are estimated from the interval between the first two, and only the last few walked.
    func mostRecent(now: Date, withinDeadline: Bool) throws -> (time: Date?, missed: Missed) {
        var earliest = self.earliest
        if withinDeadline, let deadline = startingDeadlineSeconds {
            earliest = max(earliest, now.addingTimeInterval(-TimeInterval(deadline)))
        }
        guard let first = next(after: earliest) else { throw InvalidSchedule() }
        if now < first { return (nil, .none) }
        guard let second = next(after: first) else { throw InvalidSchedule() }
        if now < second { return (first, .none) }

        let interval = Int64(second.timeIntervalSince(first).rounded())
        guard interval >= 1 else { throw InvalidSchedule() }
        let missed = Int64(now.timeIntervalSince(first).rounded(.towardZero)) / interval + 1
        // One interval before the estimate, so that an irregular schedule (weekdays only) is
        // walked to its real most recent time.
        var time = first.addingTimeInterval(TimeInterval((missed - 2) * interval))
        var mostRecent: Date?
        while let candidate = next(after: time), candidate <= now {
            mostRecent = candidate
            time = candidate
        }
        return (mostRecent, missed > Int64(Self.manyMissed) ? .many : .few)
    }

    /// How long until the sync after the next scheduled time; nil when there is none.
    func delayUntilNext(now: Date) -> TimeInterval? {
        var from = now
        if let (time, missed) = try? mostRecent(now: now, withinDeadline: false) {
            from = time ?? (missed == .none ? earliest : now)
        }
        guard let next = next(after: from) else { return nil }
        return next.addingTimeInterval(Self.wakeUpDelta).timeIntervalSince(now)
    }
}
