import Foundation
import LEMCore

/// Chooses next tokens from logits according to `SamplingSettings`, with its own seeded random
/// generator so a run is reproducible.
public struct Sampler: Sendable {
    /// The settings in use.
    public let settings: SamplingSettings
    /// The seed the generator started from (`settings.seed`, or a fresh one when unset).
    public let seed: UInt64
    private let temperature: Float
    private let topP: Float
    private let minP: Float
    private var rng: Xoshiro256
    /// Candidate scratch, reused between calls.
    private var candidates: [(id: Int, logit: Float)] = []

    /// Creates a sampler seeded from `settings.seed` (from the clock when it is nil).
    public init(settings: SamplingSettings) {
        self.settings = settings
        seed = settings.seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
        // The arithmetic is in Float, as the logits are.
        temperature = Float(settings.temperature)
        topP = Float(settings.topP)
        minP = Float(settings.minP)
        rng = Xoshiro256(seed: seed)
    }

    /// Applies the repetition penalty in place to every distinct id of `history`'s window
    /// (transformers' `RepetitionPenaltyLogitsProcessor`).
    public static func applyRepetitionPenalty(
        _ logits: inout [Float], history: [Int], penalty: Float, window: Int
    ) {
        guard penalty != 1, !history.isEmpty else { return }
        let recent = window > 0 ? history.suffix(window) : history[...]
        var seen = Set<Int>()
        for id in recent where id >= 0 && id < logits.count && seen.insert(id).inserted {
            let l = logits[id]
            logits[id] = l > 0 ? l / penalty : l * penalty
        }
    }

    /// The offset of the largest value (the first one on ties).
    public static func argmax<Logits: Collection<Float>>(_ logits: Logits) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, l) in logits.enumerated() where l > bestValue {
            best = i
            bestValue = l
        }
        return best
    }

    /// Picks the next token id from one row of `logits` (`(V)`), given the context so far.
    public mutating func sample(logits input: [Float], history: [Int]) -> Int {
        var logits = input
        Self.applyRepetitionPenalty(
            &logits, history: history, penalty: Float(settings.repetitionPenalty), window: settings.repetitionWindow)
        guard temperature > 0 else { return Self.argmax(logits) }
        let maxLogit = logits.max() ?? 0
        // Tokens more than 30 nats (in temperature-scaled logits) below the best have relative
        // probability < 1e-13; leaving them out of the sort changes no decision measurably.
        let floor = maxLogit - 30 * temperature
        candidates.removeAll(keepingCapacity: true)
        for (i, l) in logits.enumerated() where l >= floor { candidates.append((i, l / temperature)) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if settings.topK > 0 && candidates.count > settings.topK {
            candidates.removeLast(candidates.count - settings.topK)
        }

        let top = candidates[0].logit
        var probs = candidates.map { expf($0.logit - top) }  // sorted descending
        var total = probs.reduce(0, +)
        if topP < 1 {
            var cumulative: Float = 0
            var keep = probs.count
            for (i, q) in probs.enumerated() {
                cumulative += q / total
                if cumulative >= topP {
                    keep = i + 1
                    break
                }
            }
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        if minP > 0 {
            // probs[0] is the top probability (unnormalized 1); keep those >= minP × top.
            let threshold = minP * probs[0]
            let keep = probs.firstIndex { $0 < threshold } ?? probs.count
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        var r = rng.nextUnitFloat() * total
        for (i, q) in probs.enumerated() {
            r -= q
            if r < 0 { return candidates[i].id }
        }
        return candidates[probs.count - 1].id
    }
}
