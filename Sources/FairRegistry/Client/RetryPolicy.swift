import Foundation

/// When and how long to wait before trying again: connection failures, 429 (honouring
/// `Retry-After`) and 5xx are retried with exponential backoff and full jitter, so many clients
/// failing together do not come back together.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(maxAttempts: Int = 6, baseDelay: TimeInterval = 0.25, maxDelay: TimeInterval = 10) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    func delay(attempt: Int, retryAfter: String? = nil) -> TimeInterval {
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(seconds, 60)
        }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt)))
        return ceiling / 2 + Double.random(in: 0...(ceiling / 2))
    }
}
