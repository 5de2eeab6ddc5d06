import Foundation

/// Reads tokenizer.json's two big members — `model.vocab` (token → id) and `model.merges` —
/// straight from the file's bytes.
///
/// Gemma 3's file has 262k vocabulary entries and 514k merges. Building them as a generic JSON
/// tree and then looking every merge's three pieces up by `String` made loading take ~1.7 s;
/// here pieces are decoded into one reused byte buffer and looked up in a byte-keyed table
/// (`PieceTable`), so a merge costs three hash probes and no allocation. Results are identical
/// to the tree path (`Tokenizer.parseBPE` with a parsed tree), which tests keep as the oracle.
struct VocabularyScanner {
    /// The whole tokenizer.json.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The file, for error messages.
    let path: String

    /// The vocabulary object at `range`: a byte-keyed table of piece → id (a repeated piece
    /// keeps its last id, as a dictionary would) and the largest id.
    func vocabulary(_ range: Range<Int>) throws -> (table: PieceTable, maxId: Int) {
        var p = JSONParser(bytes: bytes)
        p.i = range.lowerBound
        guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "{") else {
            throw TokenizerError.invalidFile(path: path, reason: "model.vocab: expected an object of token → id")
        }
        p.i += 1
        var table = PieceTable(expectedCount: 1 << 12)
        var piece: [UInt8] = []
        var maxId = -1
        p.skipSpace()
        if p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "}") { return (table, maxId) }
        while true {
            p.skipSpace()
            do { try p.stringBytes(into: &piece) } catch {
                throw TokenizerError.invalidFile(path: path, reason: "model.vocab: \(error)")
            }
            p.skipSpace()
            guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: ":") else {
                throw TokenizerError.invalidFile(path: path, reason: "model.vocab: expected ':' at byte \(p.i)")
            }
            p.i += 1
            p.skipSpace()
            guard let id = p.unsignedInteger(), id < 1 << 31 else {
                let text = String(decoding: piece, as: UTF8.self)
                throw TokenizerError.invalidFile(path: path, reason: "model.vocab[\"\(text)\"]: expected a non-negative integer id")
            }
            table.insert(piece, id: Int32(id))
            maxId = max(maxId, id)
            p.skipSpace()
            guard p.i < range.upperBound else { throw TokenizerError.invalidFile(path: path, reason: "model.vocab: unterminated object") }
            if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
            if bytes[p.i] == UInt8(ascii: "}") { break }
            throw TokenizerError.invalidFile(path: path, reason: "model.vocab: expected ',' or '}' at byte \(p.i)")
        }
        return (table, maxId)
    }

    /// The merges list at `range` ("left right" strings or [left, right] pairs) as the packed
    /// table of `BPEModel.MergeSource.ranked`; the first occurrence of a pair keeps its rank.
    func merges(_ range: Range<Int>, pieces table: PieceTable) throws -> [UInt64: UInt64] {
        var p = JSONParser(bytes: bytes)
        p.i = range.lowerBound
        guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "[") else {
            throw TokenizerError.invalidFile(path: path, reason: "model.merges: expected a list")
        }
        p.i += 1
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity((range.count / 24) + 16)
        var left: [UInt8] = [], right: [UInt8] = [], joined: [UInt8] = []
        var rank = 0
        func bad() -> TokenizerError {
            .invalidFile(path: path, reason: "model.merges[\(rank)]: expected a string or a pair of strings")
        }
        p.skipSpace()
        if p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "]") { return merges }
        while true {
            p.skipSpace()
            guard p.i < range.upperBound else { throw bad() }
            if bytes[p.i] == UInt8(ascii: "\"") {
                guard (try? p.stringBytes(into: &joined)) != nil else { throw bad() }
                guard let space = joined.firstIndex(of: 0x20) else {
                    let text = String(decoding: joined, as: UTF8.self)
                    throw TokenizerError.invalidFile(path: path, reason: "merges[\(rank)]: expected \"left right\", got \"\(text)\"")
                }
                left.removeAll(keepingCapacity: true)
                left.append(contentsOf: joined[..<space])
                right.removeAll(keepingCapacity: true)
                right.append(contentsOf: joined[(space + 1)...])
            } else if bytes[p.i] == UInt8(ascii: "[") {
                p.i += 1
                p.skipSpace()
                guard (try? p.stringBytes(into: &left)) != nil else { throw bad() }
                p.skipSpace()
                guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: ",") else { throw bad() }
                p.i += 1
                p.skipSpace()
                guard (try? p.stringBytes(into: &right)) != nil else { throw bad() }
                p.skipSpace()
                guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "]") else { throw bad() }
                p.i += 1
            } else {
                throw bad()
            }
            joined.removeAll(keepingCapacity: true)
            joined.append(contentsOf: left)
            joined.append(contentsOf: right)
            guard let a = table.id(of: left), let b = table.id(of: right), let m = table.id(of: joined) else {
                let l = String(decoding: left, as: UTF8.self), r = String(decoding: right, as: UTF8.self)
                throw TokenizerError.invalidFile(
                    path: path, reason: "model.merges[\(rank)]: \"\(l)\" + \"\(r)\" uses a token not in the vocabulary")
            }
            let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(m)) }
            rank += 1
            p.skipSpace()
            guard p.i < range.upperBound else { throw TokenizerError.invalidFile(path: path, reason: "model.merges: unterminated list") }
            if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
            if bytes[p.i] == UInt8(ascii: "]") { break }
            throw TokenizerError.invalidFile(path: path, reason: "model.merges: expected ',' or ']' at byte \(p.i)")
        }
        return merges
    }
}

/// An open-addressing hash table from piece bytes to token id, its keys kept in one byte arena.
struct PieceTable {
    /// Every key's bytes, back to back.
    private(set) var arena: [UInt8] = []
    /// Per entry: where its key starts in `arena`, its length and its id.
    private(set) var starts: [Int32] = []
    private(set) var lengths: [Int32] = []
    private(set) var ids: [Int32] = []
    /// Entry index + 1 per slot, 0 when empty; the count is a power of two.
    private var slots: [Int32]
    private var mask: Int

    /// Creates an empty table sized for about `expectedCount` keys (it grows as needed).
    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// The number of distinct keys.
    var count: Int { ids.count }

    /// The bytes of entry `e`.
    func key(_ e: Int) -> ArraySlice<UInt8> { arena[Int(starts[e]) ..< Int(starts[e] + lengths[e])] }

    /// FNV-1a over the bytes.
    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The slot holding `key`, or the empty slot where it would go.
    private func slot(of key: UnsafeBufferPointer<UInt8>) -> Int {
        var s = Self.hash(key) & mask
        while true {
            let e = Int(slots[s]) - 1
            if e < 0 { return s }
            if Int(lengths[e]) == key.count {
                let start = Int(starts[e])
                let same = arena.withUnsafeBufferPointer { a in
                    key.count == 0 || memcmp(a.baseAddress! + start, key.baseAddress!, key.count) == 0
                }
                if same { return s }
            }
            s = (s + 1) & mask
        }
    }

    /// Maps `key` to `id`, replacing the id of an existing key.
    mutating func insert(_ key: [UInt8], id: Int32) {
        if (count + 1) * 2 > slots.count { grow() }
        let s = key.withUnsafeBufferPointer { slot(of: $0) }
        let e = Int(slots[s]) - 1
        if e >= 0 {
            ids[e] = id
            return
        }
        starts.append(Int32(arena.count))
        lengths.append(Int32(key.count))
        ids.append(id)
        arena.append(contentsOf: key)
        slots[s] = Int32(ids.count)
    }

    /// The id of `key`, if present.
    func id(of key: [UInt8]) -> Int32? {
        let e = key.withUnsafeBufferPointer { Int(slots[slot(of: $0)]) - 1 }
        return e >= 0 ? ids[e] : nil
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        for e in 0 ..< ids.count {
            let s = arena.withUnsafeBufferPointer { a in
                slot(of: UnsafeBufferPointer(rebasing: a[Int(starts[e]) ..< Int(starts[e] + lengths[e])]))
            }
            slots[s] = Int32(e + 1)
        }
    }
}
