import Foundation
import LEMCore

/// Done/total, rate and ETA of a running benchmark, from the runner's events.
///
/// The rate counts only answers produced in this session (a resumed run's earlier answers do not
/// make it look fast); the ETA is the remaining items over that rate.
public struct BenchProgress: Sendable, Equatable {
    /// Items answered, including those of earlier sessions.
    public var done = 0
    /// Items in the run.
    public var total = 0
    /// Answers produced in this session.
    public var sessionItems = 0
    /// Tokens generated in this session.
    public var sessionTokens = 0
    /// Seconds since this session's first item started.
    public var elapsed = 0.0

    /// Creates an empty progress.
    public init() {}

    /// Items per second in this session.
    public var itemsPerSecond: Double { elapsed > 0 ? Double(sessionItems) / elapsed : 0 }
    /// Generated tokens per second in this session.
    public var tokensPerSecond: Double { elapsed > 0 ? Double(sessionTokens) / elapsed : 0 }
    /// Seconds left at the current rate; nil before the first answer.
    public var eta: Double? {
        guard sessionItems > 0, itemsPerSecond > 0 else { return nil }
        return Double(max(0, total - done)) / itemsPerSecond
    }

    /// Applies one runner event, `elapsed` seconds into the session.
    public mutating func apply(_ event: BenchRunEvent, elapsed: Double) {
        self.elapsed = elapsed
        switch event {
        case .started(_, let total, let done, _):
            self.total = total
            self.done = done
        case .response(_, _, let done, let total, let tokens, _):
            self.done = done
            self.total = total
            sessionItems += 1
            sessionTokens += tokens ?? 0
        case .finished:
            break
        }
    }

    /// `[12/50] 0.21 items/s, 38.0 tok/s, ETA 3m01s`.
    public var line: String {
        var s = "[\(done)/\(total)]"
        if sessionItems > 0 {
            s += String(format: " %.2f items/s, %.1f tok/s", itemsPerSecond, tokensPerSecond)
        }
        s += ", ETA " + (eta.map(Self.duration) ?? "—")
        return s
    }

    /// `45s`, `3m01s`, `2h05m`.
    public static func duration(_ seconds: Double) -> String {
        let t = Int(seconds.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60)
    }
}
