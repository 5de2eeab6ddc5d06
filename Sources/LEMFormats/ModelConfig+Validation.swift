import Foundation

/// Range checks on the sizes and numbers a model file states, before anything is sized by them.
///
/// A model's files come from strangers: a head count of zero divides by zero, a layer count of
/// 10⁹ reserves gigabytes, a NaN epsilon poisons every norm. Both readers (config.json and GGUF)
/// run these checks, with errors naming the file and the key as that format spells it;
/// `layerCount(in:)` lets the model factory hold the layer count to the tensors actually present.
extension ModelConfig {
    /// The largest width, head count, head size or vocabulary accepted (2²⁴; real models stay
    /// below 2¹⁹), so products of two sizes can never overflow.
    public static let maxDimension = 1 << 24
    /// The most layers accepted before the tensors are counted (real models have under 200).
    public static let maxLayers = 1 << 16
    /// The most experts per mixture-of-experts layer accepted (GPT-OSS 120B has 128).
    public static let maxExperts = 1 << 12

    /// The settings a check names, spelled per format by `key`.
    enum Field {
        case hidden, intermediate, layers, heads, kvHeads, headDim, vocab, maxPositions, slidingWindow
        case rmsNormEps, ropeTheta, ropeLocalTheta, queryPreAttnScalar, finalSoftcap, attnSoftcap
        case experts, expertsPerToken, swiglu
    }

    /// Throws unless every size is positive and bounded and every float setting is finite and in
    /// range. `key` gives the name of a field in the file's own terms.
    func validate(file: URL, key: (Field) -> String) throws {
        func bad(_ field: Field, _ value: Any, _ expected: String) -> FormatError {
            FormatError(file, "\(key(field)) is \(value), expected \(expected)")
        }
        let sizes: [(Field, Int)] = [
            (.hidden, hiddenSize), (.intermediate, intermediateSize), (.heads, numAttentionHeads),
            (.kvHeads, numKeyValueHeads), (.headDim, headDim), (.vocab, vocabSize)
        ]
        for (field, value) in sizes where !(1...Self.maxDimension).contains(value) {
            throw bad(field, value, "an integer from 1 to \(Self.maxDimension)")
        }
        guard (1...Self.maxLayers).contains(numHiddenLayers) else {
            throw bad(.layers, numHiddenLayers, "an integer from 1 to \(Self.maxLayers)")
        }
        guard maxPositionEmbeddings >= 1 else { throw bad(.maxPositions, maxPositionEmbeddings, "a positive integer") }
        if let w = slidingWindow, w < 1 { throw bad(.slidingWindow, w, "a positive integer") }
        guard rmsNormEps.isFinite, rmsNormEps >= 0 else { throw bad(.rmsNormEps, rmsNormEps, "a finite number >= 0") }
        let positives: [(Field, Double?)] = [
            (.ropeTheta, ropeTheta), (.ropeLocalTheta, ropeLocalTheta), (.queryPreAttnScalar, queryPreAttnScalar),
            (.finalSoftcap, finalLogitSoftcapping), (.attnSoftcap, attnLogitSoftcapping)
        ]
        for case let (field, value?) in positives where !(value.isFinite && value > 0) {
            throw bad(field, value, "a finite number > 0")
        }
        if let experts {
            // Real models have at most a few hundred experts; each one is a row range of the weights.
            guard (1...Self.maxExperts).contains(experts.count) else {
                throw bad(.experts, experts.count, "an integer from 1 to \(Self.maxExperts)")
            }
            guard (1...experts.count).contains(experts.perToken) else {
                throw bad(.expertsPerToken, experts.perToken, "an integer from 1 to \(experts.count)")
            }
            guard experts.swigluLimit.isFinite, experts.swigluLimit > 0, experts.swigluAlpha.isFinite else {
                throw bad(.swiglu, experts.swigluLimit, "a finite number > 0 (with a finite swiglu_alpha)")
            }
        }
        for (name, scaling) in [("rope scaling", ropeScaling), ("local rope scaling", ropeLocalScaling)] {
            switch scaling {
            case .none: break
            case .linear(let factor):
                guard factor.isFinite, factor > 0 else {
                    throw FormatError(file, "\(name) factor is \(factor), expected a finite number > 0")
                }
            case let .llama3(factor, low, high, original):
                guard [factor, low, high].allSatisfy({ $0.isFinite && $0 > 0 }), original > 0, high != low else {
                    throw FormatError(
                        file,
                        "\(name) (llama3) needs finite positive factors with high_freq_factor != low_freq_factor "
                            + "and a positive original_max_position_embeddings")
                }
            case let .yarn(factor, fast, slow, original, _, attention):
                guard [factor, fast, slow, attention].allSatisfy({ $0.isFinite && $0 > 0 }), original > 0 else {
                    throw FormatError(
                        file,
                        "\(name) (yarn) needs finite positive factor, beta_fast, beta_slow and attention factor "
                            + "and a positive original_max_position_embeddings")
                }
            }
        }
    }

    /// The layers `tensorNames` hold: one more than the largest N of a `model.layers.N.` name
    /// (0 when there is none). A model is built only when this covers `numHiddenLayers`, so no
    /// array is sized by a count the file cannot back.
    public static func layerCount(in tensorNames: some Sequence<String>) -> Int {
        var highest = -1
        for name in tensorNames where name.hasPrefix("model.layers.") {
            let rest = name.utf8.dropFirst("model.layers.".utf8.count)
            let digits = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard digits.count <= 9, let n = Int(String(decoding: digits, as: UTF8.self)) else { continue }
            highest = max(highest, n)
        }
        return highest + 1
    }
}
