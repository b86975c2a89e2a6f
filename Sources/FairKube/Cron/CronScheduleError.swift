/// Why a cron schedule was refused. The message is robfig/cron v3's (the parser Kubernetes
/// validates `spec.schedule` with), so a user sees the words kube-apiserver would print after
/// `spec.schedule: Invalid value: "…":`.
public struct CronScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
