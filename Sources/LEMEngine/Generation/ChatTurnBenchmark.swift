import Dispatch
import Foundation
import LEMCore

/// Measures what each turn of a chat costs, with the prefix cache (`reuse`) or recomputing the
/// whole conversation every turn (`replay`), as `lem bench-chat` reports it.
///
/// Method: an optional system prompt (e.g. the kernel), then `turns` fixed user questions, each
/// answered greedily (at most `replyTokens`, the chat stops honoured) through the model's chat
/// template and its generator, the reply (trimmed, as the chat stores it) appended before the next
/// question — so a turn's prompt is everything said so far. Time to first token is wall time from
/// the run's start to its first sampled token; CPU seconds are the process's user + system time
/// over the turn (every kernel thread counted: the energy proxy). One untimed token first pages
/// the weights in.
public struct ChatTurnBenchmark: Sendable {
    /// Questions asked in turn (cycled when `turns` is larger).
    public static let questions = [
        "What is a prime number? Answer in one sentence.",
        "Give an example of one below twenty.",
        "Why is 1 not counted as prime?",
        "How many primes are there below 30?",
        "Name the largest of those.",
        "Is 91 prime? Explain briefly.",
        "What is the sum of the first five primes?",
        "What is a twin prime?",
        "Give two pairs of twin primes.",
        "Summarise this conversation in one sentence."
    ]

    /// Turns in the conversation.
    public var turns: Int
    /// The most tokens each reply may have.
    public var replyTokens: Int
    /// The system prompt, nil for none.
    public var system: String?

    /// A benchmark of `turns` turns with replies of at most `replyTokens` tokens.
    public init(turns: Int = 10, replyTokens: Int = 32, system: String? = nil) {
        self.turns = turns
        self.replyTokens = replyTokens
        self.system = system
    }

    /// Runs the conversation on `model`, reusing prefixes through its prefix cache when `reuse`
    /// (the cache is emptied first either way), calling `onTurn` after each turn.
    ///
    /// Throws when the model has no tokenizer or template, or a generation fails.
    public func run(model: LoadedModel, reuse: Bool, onTurn: (ChatTurnResult) -> Void = { _ in }) throws
        -> [ChatTurnResult]
    {
        guard model.template != nil else { throw LoadedModelError.noTemplate(model.key.model) }
        model.prefixCache?.removeAll()
        _ = try model.model.forwardInPlace(tokens: [0], cache: model.model.makeCache(), logits: .last)
        var messages: [ChatMessage] = system.map { [.system($0)] } ?? []
        var results: [ChatTurnResult] = []
        for turn in 0..<turns {
            messages.append(.user(Self.questions[turn % Self.questions.count]))
            var request = try model.chatRequest(messages: messages, sampling: SamplingSettings(maxTokens: replyTokens))
            request.reusePrefix = reuse
            let cpuStart = Self.cpuSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            var firstToken: UInt64?
            var text = ""
            var failure: (any Error)?
            var stats: GenerationStats?
            model.generator.run(request) { event in
                switch event {
                case .token(_, let piece):
                    if firstToken == nil { firstToken = DispatchTime.now().uptimeNanoseconds }
                    text += piece
                case .finished(let s): stats = s
                case .failed(let error): failure = error
                case .promptProcessed: break
                }
            }
            let end = DispatchTime.now().uptimeNanoseconds
            if let failure { throw failure }
            let result = ChatTurnResult(
                turn: turn + 1, promptTokens: request.promptIds.count, reusedTokens: stats?.reusedTokens ?? 0,
                generatedTokens: stats?.generatedTokens ?? 0,
                timeToFirstTokenMs: Double((firstToken ?? end) - start) / 1e6,
                wallSeconds: Double(end - start) / 1e9, cpuSeconds: Self.cpuSeconds() - cpuStart)
            results.append(result)
            onTurn(result)
            messages.append(.assistant(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return results
    }

    /// User + system CPU time of the process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// One measured chat turn.
public struct ChatTurnResult: Sendable, Equatable {
    /// 1-based turn number.
    public var turn: Int
    /// Tokens of the whole prompt (the conversation so far).
    public var promptTokens: Int
    /// Of those, tokens restored from the prefix cache.
    public var reusedTokens: Int
    /// Tokens sampled.
    public var generatedTokens: Int
    /// Wall time from the start of the run to the first sampled token.
    public var timeToFirstTokenMs: Double
    /// Wall time of the whole turn.
    public var wallSeconds: Double
    /// Process CPU time over the turn (all threads).
    public var cpuSeconds: Double
}
