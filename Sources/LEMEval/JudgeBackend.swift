import Foundation
import LEMCore

/// Something that can answer a judge prompt: an OpenAI-compatible HTTP endpoint now, the local
/// engine later. Retries, backoff and the concurrency limit live in `JudgePass`, not here.
public protocol JudgeBackend: Sendable {
    /// Names the judge model for the stored record (never includes credentials).
    var identity: String { get }
    /// Sends one prompt and returns the judge's reply text.
    func complete(prompt: String) async throws -> String
    /// Why this judge's verdicts may be unreliable (a model too small to follow the rubric), if
    /// anything; shown before and after a pass.
    var caveat: String? { get }
}

extension JudgeBackend {
    public var caveat: String? { nil }
}

/// Why a call to a judge failed: the HTTP client's error (`retryable` for timeouts, connection
/// errors, HTTP 429 and 5xx), which local judges throw too.
public typealias JudgeError = OpenAIClientError
