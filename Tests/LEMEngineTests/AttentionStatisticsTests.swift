import Foundation
import TestSupport
import Testing

@testable import LEMEngine

/// Hand-built maps and key sets with answers known on paper.
@Suite("Attention statistics")
struct AttentionStatisticsTests {
    /// A (T, T) causal map from a row function.
    static func map(_ t: Int, _ row: (Int) -> [Float]) -> [Float] {
        var m = [Float](repeating: 0, count: t * t)
        for q in 0..<t { for (k, v) in row(q).enumerated() { m[q * t + k] = v } }
        return m
    }

    @Test("uniform causal attention: entropy 1, sink and distance from harmonic sums")
    func uniform() {
        let t = 6
        let s = HeadStatistics(
            map: Self.map(t) { q in Array(repeating: 1 / Float(q + 1), count: q + 1) }, tokens: t, window: 0)
        #expect(abs(s.entropy - 1) < 1e-6)
        // rows q = 1…5: sink = mean 1/(q+1); distance = mean q/2; locality = mean min(q+1,5)/(q+1).
        let rows = (1..<t).map(Double.init)
        #expect(abs(s.sink - rows.map { 1 / ($0 + 1) }.reduce(0, +) / 5) < 1e-6)
        #expect(abs(s.previousToken - s.sink) < 1e-6)
        #expect(abs(s.diagonal - s.sink) < 1e-6)
        #expect(abs(s.meanDistance - rows.map { $0 / 2 }.reduce(0, +) / 5) < 1e-6)
        #expect(abs(s.locality - rows.map { min($0 + 1, 5) / ($0 + 1) }.reduce(0, +) / 5) < 1e-6)
        #expect(s.maxToken == 0)
    }

    @Test("uniform within a sliding window is still entropy 1 (normalised by the attendable count)")
    func uniformWindow() {
        let t = 8
        let w = 3
        let m = Self.map(t) { q in (0...q).map { k in k > q - w ? 1 / Float(min(q + 1, w)) : 0 } }
        let s = HeadStatistics(map: m, tokens: t, window: w)
        #expect(abs(s.entropy - 1) < 1e-6)
        // Without telling it the window, rows past it look only partly spread.
        #expect(HeadStatistics(map: m, tokens: t, window: 0).entropy < 0.9)
    }

    @Test("one-hot diagonal: entropy 0, diagonal 1, locality 1, distance 0")
    func diagonal() {
        let t = 5
        let s = HeadStatistics(map: Self.map(t) { q in (0...q).map { $0 == q ? 1 : 0 } }, tokens: t, window: 0)
        #expect(s.entropy == 0)
        #expect(s.diagonal == 1)
        #expect(s.locality == 1)
        #expect(s.sink == 0)
        #expect(s.previousToken == 0)
        #expect(s.meanDistance == 0)
        #expect(s.maxToken == 1 && s.maxTokenMass == 0.25)  // every key 1…4 gets one row; ties go to the first
    }

    @Test("all on BOS: sink 1, entropy 0, max token 0 with mass 1, distance = mean q")
    func allOnBOS() {
        let t = 5
        let s = HeadStatistics(map: Self.map(t) { q in (0...q).map { $0 == 0 ? 1 : 0 } }, tokens: t, window: 0)
        #expect(s.sink == 1)
        #expect(s.entropy == 0)
        #expect(s.maxToken == 0 && s.maxTokenMass == 1)
        #expect(s.meanDistance == 2.5)  // (1 + 2 + 3 + 4) / 4
        #expect(s.diagonal == 0)
        #expect(abs(s.previousToken - 0.25) < 1e-12)  // only row 1's previous token is BOS
    }

    @Test("previous-token head")
    func previousToken() {
        let t = 4
        let s = HeadStatistics(
            map: Self.map(t) { q in (0...q).map { $0 == q - 1 ? 1 : ($0 == q && q == 0 ? 1 : 0) } }, tokens: t,
            window: 0)
        #expect(s.previousToken == 1)
        #expect(s.meanDistance == 1)
        #expect(s.entropy == 0)
    }

    @Test("a single token: the one row, entropy 0")
    func singleToken() {
        let s = HeadStatistics(map: [1], tokens: 1, window: 0)
        #expect(s.sink == 1 && s.diagonal == 1 && s.entropy == 0 && s.maxToken == 0)
    }

    // MARK: Bone orientation

    /// (T, K, D) keys from a generator.
    static func keys(t: Int, k: Int, d: Int, _ f: (Int, Int, Int) -> Float) -> [Float] {
        var out: [Float] = []
        for p in 0..<t { for h in 0..<k { for i in 0..<d { out.append(f(p, h, i)) } } }
        return out
    }

    @Test("identical heads: coherence 1, every pair phase-locked")
    func identicalHeads() {
        let k = Self.keys(t: 4, k: 6, d: 3) { p, _, i in Float(p + 1) * Float(i + 1) }
        let b = BoneOrientation(keys: [k, k], tokens: 4, kvHeads: 6, headDim: 3)
        #expect(b.layers[0].mode == "heads")
        #expect(abs(b.layers[0].coherence - 1) < 1e-9)
        #expect(b.layers[0].phaseLock == 1 && b.layers[0].pairs == 15)
        #expect(abs(b.layers[0].alignmentToNext! - 1) < 1e-9)
        #expect(b.layers[1].alignmentToNext == nil)
        #expect(b.collapseCount == 0)
    }

    @Test("orthogonal heads: coherence 0, no phase-lock")
    func orthogonalHeads() {
        let k = Self.keys(t: 3, k: 5, d: 5) { _, h, i in h == i ? 1 : 0 }
        let b = BoneOrientation(keys: [k], tokens: 3, kvHeads: 5, headDim: 5)
        #expect(abs(b.layers[0].coherence) < 1e-12)
        #expect(b.layers[0].phaseLock == 0)
    }

    @Test("one KV head: position mode; identical positions have differentiation 0, orthogonal ones 1")
    func positionMode() {
        let same = Self.keys(t: 4, k: 1, d: 4) { _, _, i in Float(i) }
        let distinct = Self.keys(t: 4, k: 1, d: 4) { p, _, i in p == i ? 2 : 0 }
        let b = BoneOrientation(keys: [same, distinct], tokens: 4, kvHeads: 1, headDim: 4)
        #expect(b.layers[0].mode == "positions")
        #expect(abs(b.layers[0].coherence) < 1e-12)
        #expect(b.layers[0].phaseLock == 1 && b.layers[0].pairs == 6)
        #expect(abs(b.layers[1].coherence - 1) < 1e-12)
        #expect(b.layers[1].phaseLock == 0)
        // Equal norms everywhere: K-norm entropy 1.
        #expect(abs(b.layers[1].kNormEntropy - 1) < 1e-12)
        // Summed keys: `same` 4·(0,1,2,3), `distinct` (2,2,2,2): cosine 6/(√14·2) ≈ 0.80.
        #expect(abs(b.layers[0].alignmentToNext! - 6 / (14.0.squareRoot() * 2)) < 1e-9)
        #expect(b.collapseCount == 0)
    }

    @Test("K-norm entropy: all norm on one position is 0; opposite mean vectors collapse the joint")
    func entropyAndCollapse() {
        let spike = Self.keys(t: 4, k: 1, d: 2) { p, _, _ in p == 0 ? 1 : 0 }
        let flipped = Self.keys(t: 4, k: 1, d: 2) { p, _, _ in p == 0 ? -1 : 0 }
        let b = BoneOrientation(keys: [spike, flipped], tokens: 4, kvHeads: 1, headDim: 2)
        #expect(b.layers[0].kNormEntropy == 0)
        #expect(abs(b.layers[0].alignmentToNext! + 1) < 1e-12)
        #expect(b.collapseCount == 1)
        #expect(BoneOrientation.normalisedEntropy([1, 1, 1, 1]) == 1)
        // Composite = 100 × (0.3·c + 0.25·0 + 0.2·p + 0.15·e + 0.1·0): clamped alignment, one collapsed joint of one.
        let expected = 100 * (0.3 * min(max(b.meanCoherence, 0), 1) + 0.2 * b.phaseLock + 0.15 * b.meanKNormEntropy)
        #expect(abs(b.composite - expected) < 1e-9)
    }

    // MARK: Comparison

    @Test("comparing a model with itself changes nothing; a changed head ranks first")
    func comparison() throws {
        let model = try ModelFactory.load(TestPaths.fixture("engine/gemma3_tiny"))
        let ids = [1, 40, 41, 42, 43, 44, 45, 46, 47, 48]
        let (capture, _) = try AttentionRunner.capture(model: model, ids: ids)
        let a = try AttentionAnalysis(capture: capture, ids: ids, keepMaps: true)
        let same = try AttentionComparison(a, a)
        #expect(same.heads.count == 16)
        #expect(same.heads.allSatisfy { $0.mapMeanAbsDiff == 0 && $0.deltas.values.allSatisfy { $0 == 0 } })
        var b = a
        let t = ids.count
        b.layers[2].heads[1].map = Self.map(t) { q in (0...q).map { $0 == q ? 1 : 0 } }
        b.layers[2].heads[1].stats = HeadStatistics(map: b.layers[2].heads[1].map, tokens: t, window: 8)
        let diff = try AttentionComparison(a, b)
        let top = try #require(diff.ranked.first)
        #expect(top.layer == 2 && top.head == 1 && top.mapMeanAbsDiff > 0)
        #expect(diff.ranked.dropFirst().allSatisfy { $0.mapMeanAbsDiff == 0 })
        #expect(abs(top.deltas["diagonal"]! - (1 - a.layers[2].heads[1].stats.diagonal)) < 1e-12)
        #expect(throws: AttentionError.self) {
            _ = try AttentionComparison(a, try AttentionAnalysis(capture: capture, ids: ids, keepMaps: false))
        }
    }
}
