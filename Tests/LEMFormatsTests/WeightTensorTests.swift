import LEMFormats
import TestSupport
import Testing

/// A tiny in-memory tensor whose row r holds r*columns ..< (r+1)*columns.
private struct CountingTensor: WeightTensor {
    var name = "t"
    var shape: [Int]
    var encoding = "f32"
    var storedBytes: Int { shape.reduce(1, *) * 4 }
    func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        for c in 0..<columns { out[c] = Float(row * columns + c) }
    }
}

@Suite struct WeightTensorTests {
    @Test func rowsAndColumnsFollowTheLastDimension() {
        let t = CountingTensor(shape: [2, 3, 4])
        #expect(t.rows == 6)
        #expect(t.columns == 4)
        #expect(CountingTensor(shape: [5]).rows == 1)
    }

    @Test func decodeAllIsRowMajor() {
        let t = CountingTensor(shape: [3, 4])
        #expect(checkClose(t.decodeAll(), (0..<12).map(Float.init), tol: 0, label: "decodeAll") == nil)
    }

    @Test func configDefaultsEveryLayerToFullAttention() {
        let c = ModelConfig(
            modelType: "llama", hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 3,
            numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 4, vocabSize: 10, rmsNormEps: 1e-5,
            ropeTheta: 1e4, maxPositionEmbeddings: 64, tieWordEmbeddings: true, hiddenActivation: "silu")
        #expect(c.layerTypes == [.fullAttention, .fullAttention, .fullAttention])
    }
}
