/// A byte-pair-encoding model: vocabulary, merge ranks and the rules for unknown characters.
///
/// Two merge sources share one merge loop: ranked merge pairs (tokenizer.json `merges`, GGUF
/// `tokenizer.ggml.merges`) and SentencePiece scores (GGUF `llama` vocabularies), where a pair may
/// merge when the joined piece is in the vocabulary and higher-scored pieces merge first — the
/// order llama.cpp's SPM tokenizer and the HF conversion of such vocabularies follow.
public struct BPEModel: Sendable {
    /// How adjacent symbols find their merge.
    public enum MergeSource: Sendable {
        /// Pair (left id, right id) packed as `left << 32 | right` → `rank << 32 | merged id`.
        case ranked([UInt64: UInt64])
        /// Merge when `piece(left) + piece(right)` is a token; rank = dense rank of its score (high first).
        case scores([Int32])
    }

    /// Token text → id (model vocabulary only).
    public let vocab: [PieceKey: Int]
    /// Id → token text, covering the model vocabulary.
    public let pieces: [String]
    /// The merge rule.
    public let merges: MergeSource
    /// Unknown characters become `<0xNN>` byte tokens.
    public let byteFallback: Bool
    /// The id of the unknown token, if the model has one.
    public let unknownId: Int?
    /// Consecutive unknown tokens fuse into one.
    public let fuseUnknown: Bool
    /// A word that is itself a token is emitted whole, without merging.
    public let ignoreMerges: Bool
    /// `<0xNN>` token id for each byte, or -1.
    let byteTokenIds: [Int]
    /// Single-scalar tokens: scalar value → id.
    let scalarIds: [UInt32: Int]
    /// For byte-level vocabularies: the id of each byte's stand-in character, or -1.
    let byteLevelIds: [Int]
    /// Characters that some piece has right before a `▁`: words may be split before every other
    /// `▁` run without changing the result (see `metaspaceBlockers`).
    public let metaspaceBlockers: Set<UInt32>

    /// Builds a model from its vocabulary and merge source.
    public init(
        vocab: [PieceKey: Int], pieces: [String], merges: MergeSource, byteFallback: Bool,
        unknownId: Int?, fuseUnknown: Bool, ignoreMerges: Bool
    ) {
        self.vocab = vocab
        self.pieces = pieces
        self.merges = merges
        self.byteFallback = byteFallback
        self.unknownId = unknownId
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        let hex = Array("0123456789ABCDEF")
        byteTokenIds = (0..<256).map { b in vocab[PieceKey("<0x\(hex[b >> 4])\(hex[b & 15])>")] ?? -1 }
        var scalars: [UInt32: Int] = [:]
        for (piece, id) in vocab {
            var it = piece.text.unicodeScalars.makeIterator()
            if let first = it.next(), it.next() == nil { scalars[first.value] = id }
        }
        scalarIds = scalars
        byteLevelIds = ByteLevel.byteToScalar.map { scalars[$0.value] ?? -1 }
        metaspaceBlockers = BPEModel.metaspaceBlockers(pieces)
    }

    /// The id of a vocabulary piece (compared byte for byte).
    public func id(of piece: String) -> Int? { vocab[PieceKey(piece)] }

    /// Dense ranks of scores, highest score first (equal scores share a rank).
    public static func scoreRanks(_ scores: [Float]) -> [Int32] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var ranks = [Int32](repeating: 0, count: scores.count)
        var rank: Int32 = 0
        for (k, id) in order.enumerated() {
            if k > 0 && scores[order[k - 1]] != scores[id] { rank += 1 }
            ranks[id] = rank
        }
        return ranks
    }

    /// Encodes one pre-tokenized word given as byte-level stand-in bytes (GPT-2 style vocabularies).
    public func encodeByteLevel(_ bytes: ArraySlice<UInt8>, into out: inout [Int]) {
        if ignoreMerges, let id = vocab[PieceKey(ByteLevel.encode(bytes))] {
            out.append(id)
            return
        }
        var symbols: [Int] = []
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteLevelIds[Int(b)]
            if id >= 0 { symbols.append(id) } else { appendUnknown(bytes: [b], into: &symbols) }
        }
        merge(&symbols)
        out.append(contentsOf: symbols)
    }

    /// Encodes one pre-tokenized word given as Unicode scalars (SentencePiece style vocabularies).
    public func encodeScalars(_ word: ArraySlice<Unicode.Scalar>, into out: inout [Int]) {
        if ignoreMerges {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: word)
            if let id = vocab[PieceKey(String(view))] {
                out.append(id)
                return
            }
        }
        var symbols: [Int] = []
        symbols.reserveCapacity(word.count)
        for s in word {
            if let id = scalarIds[s.value] {
                symbols.append(id)
            } else {
                appendUnknown(bytes: Array(String(s).utf8), into: &symbols)
            }
        }
        merge(&symbols)
        out.append(contentsOf: symbols)
    }

    /// Appends the tokens for a character outside the vocabulary: byte tokens, else the unknown token.
    private func appendUnknown(bytes: [UInt8], into symbols: inout [Int]) {
        if byteFallback && bytes.allSatisfy({ byteTokenIds[Int($0)] >= 0 }) {
            for b in bytes { symbols.append(byteTokenIds[Int(b)]) }
            return
        }
        guard let unk = unknownId else { return }
        if fuseUnknown, symbols.last == unk { return }
        symbols.append(unk)
    }

    /// The (rank, merged id) for two adjacent symbols, or nil when they do not merge.
    @inline(__always)
    private func lookup(_ left: Int, _ right: Int) -> (rank: UInt32, id: Int)? {
        switch merges {
        case .ranked(let table):
            guard let packed = table[UInt64(left) << 32 | UInt64(right)] else { return nil }
            return (UInt32(packed >> 32), Int(packed & 0xFFFF_FFFF))
        case .scores(let ranks):
            guard let id = vocab[PieceKey(pieces[left] + pieces[right])] else { return nil }
            return (UInt32(ranks[id]), id)
        }
    }

    /// Applies merges to `symbols` in place: lowest rank first, leftmost first among equal ranks.
    ///
    /// A heap of candidate pairs over a linked list keeps this O(n log n) even for long words.
    func merge(_ symbols: inout [Int], allowSmallPath: Bool = true) {
        let n = symbols.count
        if n < 2 { return }
        if n == 2 {
            if let m = lookup(symbols[0], symbols[1]) { symbols = [m.id] }
            return
        }
        if allowSmallPath && n <= 24 {
            mergeSmall(&symbols)
            return
        }
        var next = [Int](0..<n).map { $0 + 1 }  // (n) index of the following live symbol, n = none
        var prev = [Int](0..<n).map { $0 - 1 }  // (n) index of the preceding live symbol, -1 = none
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let m = lookup(symbols[i], symbols[i + 1]) { heap.push(rank: m.rank, pos: i, id: m.id) }
        }
        while let top = heap.pop() {
            let i = top.pos
            guard alive[i], next[i] < n else { continue }
            let j = next[i]
            guard let m = lookup(symbols[i], symbols[j]), m.id == top.id, m.rank == top.rank else { continue }
            symbols[i] = m.id
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            if prev[i] >= 0, let p = lookup(symbols[prev[i]], symbols[i]) {
                heap.push(rank: p.rank, pos: prev[i], id: p.id)
            }
            if next[i] < n, let q = lookup(symbols[i], symbols[next[i]]) { heap.push(rank: q.rank, pos: i, id: q.id) }
        }
        var out: [Int] = []
        out.reserveCapacity(n)
        var i = 0
        while i < n {
            out.append(symbols[i])
            i = next[i]
        }
        symbols = out
    }
}

extension BPEModel {
    /// The plain loop for short words: repeatedly merge the lowest-ranked (then leftmost) pair.
    ///
    /// Same result as the heap version (its oracle in tests); cheaper below a few dozen symbols.
    func mergeSmall(_ symbols: inout [Int]) {
        var ranks = [UInt32](repeating: .max, count: max(symbols.count - 1, 0))  // (n-1) rank of pair i, i+1
        var merged = [Int](repeating: -1, count: ranks.count)  // (n-1) id the pair merges into
        for i in 0..<ranks.count {
            if let m = lookup(symbols[i], symbols[i + 1]) {
                ranks[i] = m.rank
                merged[i] = m.id
            }
        }
        while symbols.count > 1 {
            var best = -1
            var bestRank = UInt32.max
            for i in 0..<ranks.count where ranks[i] < bestRank {
                bestRank = ranks[i]
                best = i
            }
            guard best >= 0 else { return }
            symbols[best] = merged[best]
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            merged.remove(at: best)
            if best > 0 {
                if let m = lookup(symbols[best - 1], symbols[best]) {
                    ranks[best - 1] = m.rank
                    merged[best - 1] = m.id
                } else {
                    ranks[best - 1] = .max
                }
            }
            if best < ranks.count {
                if let m = lookup(symbols[best], symbols[best + 1]) {
                    ranks[best] = m.rank
                    merged[best] = m.id
                } else {
                    ranks[best] = .max
                }
            }
        }
    }

    /// The characters some vocabulary piece has right before a `▁` (other than `▁`). A merge can
    /// only cross the start of a `▁` run preceded by one of these, so elsewhere text splits there
    /// into words that merge independently (and can be cached).
    static func metaspaceBlockers(_ pieces: [String]) -> Set<UInt32> {
        var blockers = Set<UInt32>()
        for piece in pieces {
            var previous: Unicode.Scalar?
            for s in piece.unicodeScalars {
                if s == "\u{2581}", let p = previous, p != "\u{2581}" { blockers.insert(p.value) }
                previous = s
            }
        }
        return blockers
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
struct MergeHeap {
    private var keys: [UInt64] = []  // rank << 32 | position
    private var ids: [Int] = []

    mutating func push(rank: UInt32, pos: Int, id: Int) {
        keys.append(UInt64(rank) << 32 | UInt64(pos))
        ids.append(id)
        var c = keys.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            if keys[p] <= keys[c] { break }
            keys.swapAt(p, c)
            ids.swapAt(p, c)
            c = p
        }
    }

    mutating func pop() -> (rank: UInt32, pos: Int, id: Int)? {
        guard let key = keys.first else { return nil }
        let id = ids[0]
        let last = keys.count - 1
        keys.swapAt(0, last)
        ids.swapAt(0, last)
        keys.removeLast()
        ids.removeLast()
        var p = 0
        let n = keys.count
        while true {
            let l = 2 * p + 1
            let r = l + 1
            var m = p
            if l < n && keys[l] < keys[m] { m = l }
            if r < n && keys[r] < keys[m] { m = r }
            if m == p { break }
            keys.swapAt(p, m)
            ids.swapAt(p, m)
            p = m
        }
        return (UInt32(key >> 32), Int(key & 0xFFFF_FFFF), id)
    }
}
