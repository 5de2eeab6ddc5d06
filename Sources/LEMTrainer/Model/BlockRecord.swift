/// The activations of one block that its backward reads, in the model's scalar type.
///
/// Legend: N rows (B·T), C hidden, H/K query/key-value heads, D head dim, F feed-forward size,
/// R LoRA rank, I/O a linear layer's input/output size.
struct BlockRecord<Scalar: TrainingScalar> {
    var input: [Scalar] = []  // (N, C)
    var n1: [Scalar] = []  // (N, C)
    var queryPreNorm: [Scalar] = [], keyPreNorm: [Scalar] = []  // (N, H|K, D), Gemma 3
    var query: [Scalar] = [], key: [Scalar] = [], value: [Scalar] = []  // (N, H|K, D), after norm and RoPE
    var probabilities: [Scalar] = []  // (B, H, T, T)
    var attention: [Scalar] = []  // (N, H·D)
    var attentionOut: [Scalar] = []  // (N, C)
    var h: [Scalar] = []  // (N, C)
    var n2: [Scalar] = []  // (N, C)
    var gate: [Scalar] = [], up: [Scalar] = [], act: [Scalar] = []  // (N, F)
    var down: [Scalar] = []  // (N, C)
    var lowRank: [String: [Scalar]] = [:]  // module → (N, R)
    var dropoutMasks: [String: [Scalar]] = [:]  // module → (N, I)
    var doraOutputs: [String: [Scalar]] = [:]  // DoRA module → y0 (N, O)
}

/// The shape of one batched forward: B rows of T tokens.
struct BatchGeometry {
    var batch: Int
    var tokens: Int
    var rows: Int { batch * tokens }
    /// Each row's positions 0 ..< T, repeated B times. // (N)
    var positions: [Int]

    /// B rows of T tokens each.
    init(batch: Int, tokens: Int) {
        self.batch = batch
        self.tokens = tokens
        positions = (0..<batch * tokens).map { $0 % tokens }
    }
}
