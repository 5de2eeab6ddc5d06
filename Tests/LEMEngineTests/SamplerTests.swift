import Foundation
import LEMCore
import LEMEngine
import Testing

@Suite("Sampler")
struct SamplerTests {
    let logits: [Float] = [log(0.5), log(0.3), log(0.2)].map { Float($0) }

    func frequencies(_ parameters: SamplingSettings, draws: Int = 20_000) -> [Double] {
        var sampler = Sampler(settings: parameters)
        var counts = [Double](repeating: 0, count: logits.count)
        for _ in 0..<draws { counts[sampler.sample(logits: logits, history: [])] += 1 }
        return counts.map { $0 / Double(draws) }
    }

    @Test("greedy picks the largest logit")
    func greedy() {
        var sampler = Sampler(settings: .greedy)
        #expect(sampler.sample(logits: [0.1, 3, -2, 2.9], history: []) == 1)
    }

    @Test("repetition penalty divides positive and multiplies negative logits of seen tokens once")
    func repetitionPenalty() {
        var l: [Float] = [2, -2, 1, 4]
        Sampler.applyRepetitionPenalty(&l, history: [0, 1, 0], penalty: 2, window: 0)
        #expect(l == [1, -4, 1, 4])
        var w: [Float] = [2, -2, 1, 4]
        Sampler.applyRepetitionPenalty(&w, history: [0, 1, 3], penalty: 2, window: 2)
        #expect(w == [2, -4, 1, 2])
        var sampler = Sampler(settings: SamplingSettings(repetitionPenalty: 3))
        #expect(sampler.sample(logits: [3, 2], history: [0]) == 1)
    }

    @Test("temperature 1 samples the softmax distribution")
    func distribution() {
        let f = frequencies(SamplingSettings(temperature: 1, seed: 42))
        for (got, want) in zip(f, [0.5, 0.3, 0.2]) { #expect(abs(got - want) < 0.02) }
    }

    @Test("top-k, top-p and min-p cut the tail and renormalize")
    func truncation() {
        let k = frequencies(SamplingSettings(temperature: 1, topK: 1, seed: 1), draws: 500)
        #expect(k == [1, 0, 0])
        // top-p 0.6: 0.5 < 0.6, 0.5 + 0.3 >= 0.6 → keep two, in ratio 5:3.
        let p = frequencies(SamplingSettings(temperature: 1, topP: 0.6, seed: 2))
        #expect(p[2] == 0 && abs(p[0] - 0.625) < 0.02)
        // min-p 0.5: keep probabilities >= 0.25.
        let m = frequencies(SamplingSettings(temperature: 1, minP: 0.5, seed: 3))
        #expect(m[2] == 0 && abs(m[0] - 0.625) < 0.02)
    }

    @Test("the same seed repeats the same choices; another seed differs")
    func reproducible() {
        let params = SamplingSettings(temperature: 1.3, seed: 99)
        var a = Sampler(settings: params)
        var b = Sampler(settings: params)
        var c = Sampler(settings: SamplingSettings(temperature: 1.3, seed: 100))
        let wide = (0..<50).map { Float($0 % 7) * 0.1 }
        let sa = (0..<100).map { _ in a.sample(logits: wide, history: []) }
        let sb = (0..<100).map { _ in b.sample(logits: wide, history: []) }
        let sc = (0..<100).map { _ in c.sample(logits: wide, history: []) }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test("xoshiro256** from SplitMix64 matches its published construction")
    func xoshiroFirstValues() {
        // SplitMix64 seeded with 0 yields 0xE220A8397B1DCDAF first (its reference output).
        var rng = Xoshiro256(seed: 0)
        let first = rng.next()
        // s1 = second SplitMix64 output 0x6E789E6AA1B965F4; result = rotl(s1 * 5, 7) * 9.
        let s1: UInt64 = 0x6E78_9E6A_A1B9_65F4
        let x = s1 &* 5
        #expect(first == ((x << 7) | (x >> 57)) &* 9)
    }

    @Test("bad parameters are reported by name")
    func validation() {
        #expect(SamplingSettings(topP: 0).validationError() != nil)
        #expect(SamplingSettings(minP: 1).validationError() != nil)
        #expect(SamplingSettings(repetitionPenalty: 0).validationError() != nil)
        #expect(SamplingSettings(temperature: 0.7, topP: 0.9, topK: 40).validationError() == nil)
    }
}
