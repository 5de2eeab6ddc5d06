import Foundation
import LEMCore

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

    /// After an item of the object or list `name` (a `kind`) at `range`: true past a `,` (another
    /// item follows), false at `close`; anything else is an error.
    private func nextItem(
        _ p: inout JSONParser, _ range: Range<Int>, close: Unicode.Scalar, in name: String, _ kind: String
    ) throws -> Bool {
        p.skipSpace()
        guard p.i < range.upperBound else {
            throw TokenizerError.invalidFile(path: path, reason: "\(name): unterminated \(kind)")
        }
        if bytes[p.i] == UInt8(ascii: ",") {
            p.i += 1
            return true
        }
        if bytes[p.i] == UInt8(ascii: close) { return false }
        throw TokenizerError.invalidFile(path: path, reason: "\(name): expected ',' or '\(close)' at byte \(p.i)")
    }

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
                throw TokenizerError.invalidFile(
                    path: path, reason: "model.vocab[\"\(text)\"]: expected a non-negative integer id")
            }
            table.insert(piece, id: Int32(id))
            maxId = max(maxId, id)
            guard try nextItem(&p, range, close: "}", in: "model.vocab", "object") else { break }
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
        // Pieces without escapes are looked up in place; escaped ones are decoded into these.
        var decoded: [UInt8] = []
        var leftScratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256)
        var rightScratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 256)
        defer {
            leftScratch.deallocate()
            rightScratch.deallocate()
        }
        var rank = 0
        func bad() -> TokenizerError {
            .invalidFile(path: path, reason: "model.merges[\(rank)]: expected a string or a pair of strings")
        }
        p.skipSpace()
        if p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "]") { return merges }
        while true {
            p.skipSpace()
            guard p.i < range.upperBound else { throw bad() }
            let ids: (Int32?, Int32?, Int32?)
            let describe: () -> (String, String)
            if bytes[p.i] == UInt8(ascii: "\"") {
                guard let raw = try? piece(&p, decoded: &decoded, scratch: &leftScratch) else { throw bad() }
                guard let space = raw.firstIndex(of: 0x20) else {
                    let text = String(decoding: raw, as: UTF8.self)
                    throw TokenizerError.invalidFile(
                        path: path, reason: "merges[\(rank)]: expected \"left right\", got \"\(text)\"")
                }
                let l = UnsafeBufferPointer(rebasing: raw[..<space])
                let r = UnsafeBufferPointer(rebasing: raw[(space + 1)...])
                ids = (table.id(of: l), table.id(of: r), table.id(of: l, r))
                describe = { (String(decoding: l, as: UTF8.self), String(decoding: r, as: UTF8.self)) }
            } else if bytes[p.i] == UInt8(ascii: "[") {
                p.i += 1
                p.skipSpace()
                guard let l = try? piece(&p, decoded: &decoded, scratch: &leftScratch) else { throw bad() }
                p.skipSpace()
                guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: ",") else { throw bad() }
                p.i += 1
                p.skipSpace()
                guard let r = try? piece(&p, decoded: &decoded, scratch: &rightScratch) else { throw bad() }
                p.skipSpace()
                guard p.i < range.upperBound, bytes[p.i] == UInt8(ascii: "]") else { throw bad() }
                p.i += 1
                ids = (table.id(of: l), table.id(of: r), table.id(of: l, r))
                describe = { (String(decoding: l, as: UTF8.self), String(decoding: r, as: UTF8.self)) }
            } else {
                throw bad()
            }
            guard let a = ids.0, let b = ids.1, let m = ids.2 else {
                let (l, r) = describe()
                throw TokenizerError.invalidFile(
                    path: path, reason: "model.merges[\(rank)]: \"\(l)\" + \"\(r)\" uses a token not in the vocabulary")
            }
            let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
            // One hash in the usual case; a repeated pair puts the first rank back.
            if let first = merges.updateValue(UInt64(rank) << 32 | UInt64(UInt32(m)), forKey: key) {
                merges[key] = first
            }
            rank += 1
            guard try nextItem(&p, range, close: "]", in: "model.merges", "list") else { break }
        }
        return merges
    }

    /// The string at `p.i`: its bytes in place in the file when it has no escapes, else decoded
    /// (through `decoded`) into `scratch`, which grows as needed; the result is valid until
    /// `scratch` is next used.
    private func piece(
        _ p: inout JSONParser, decoded: inout [UInt8], scratch: inout UnsafeMutableBufferPointer<UInt8>
    ) throws -> UnsafeBufferPointer<UInt8> {
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "\"") else { throw p.error("expected a string") }
        var j = p.i + 1
        while j < bytes.count, bytes[j] != UInt8(ascii: "\""), bytes[j] != UInt8(ascii: "\\") { j += 1 }
        guard j < bytes.count else { throw p.error("unterminated string") }
        if bytes[j] == UInt8(ascii: "\"") {
            let start = p.i + 1
            p.i = j + 1
            return UnsafeBufferPointer(rebasing: bytes[start..<j])
        }
        try p.stringBytes(into: &decoded)
        if decoded.count > scratch.count {
            scratch.deallocate()
            scratch = .allocate(capacity: decoded.count)
        }
        _ = scratch.initialize(from: decoded)
        return UnsafeBufferPointer(rebasing: scratch[..<decoded.count])
    }
}

/// An open-addressing hash table from piece bytes to token id, its keys kept in one byte arena.
///
/// Each slot holds a 32-bit hash tag beside the entry index, so a probe only touches the arena
/// when the tags agree; a key may be looked up as the concatenation of two buffers (a merge's
/// left and right piece) without joining them.
struct PieceTable {
    /// Every key's bytes, back to back.
    private(set) var arena: [UInt8] = []
    /// Per entry: `start << 32 | length` of its key in `arena`.
    private var spans: [UInt64] = []
    /// Per entry: its id.
    private(set) var ids: [Int32] = []
    /// `tag << 32 | (entry + 1)` per slot, 0 when empty; the count is a power of two.
    private var slots: [UInt64]
    private var mask: Int

    /// Creates an empty table sized for about `expectedCount` keys (it grows as needed).
    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// The number of distinct keys.
    var count: Int { ids.count }

    /// The bytes of entry `e`.
    func key(_ e: Int) -> ArraySlice<UInt8> {
        let start = Int(spans[e] >> 32)
        let length = Int(spans[e] & 0xFFFF_FFFF)
        return arena[start..<start + length]
    }

    /// FNV-1a over `a` then `b`, finished with a multiply-xorshift so both halves are mixed.
    @inline(__always)
    private static func hash(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for x in a { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
        h ^= h >> 32
        h = h &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 29)
    }

    /// The slot holding the key `a + b`, or the empty slot where it would go.
    private func slot(of a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let h = Self.hash(a, b)
        let tag = h >> 32
        let length = a.count + b.count
        return slots.withUnsafeBufferPointer { slots in
            spans.withUnsafeBufferPointer { spans in
                arena.withUnsafeBufferPointer { arena in
                    var s = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let v = slots[s]
                        if v == 0 { return s }
                        if v >> 32 == tag {
                            let span = spans[Int(v & 0xFFFF_FFFF) - 1]
                            if Int(span & 0xFFFF_FFFF) == length {
                                if length == 0 { return s }
                                let start = arena.baseAddress! + Int(span >> 32)
                                if (a.isEmpty || memcmp(start, a.baseAddress!, a.count) == 0)
                                    && (b.isEmpty || memcmp(start + a.count, b.baseAddress!, b.count) == 0)
                                {
                                    return s
                                }
                            }
                        }
                        s = (s + 1) & mask
                    }
                }
            }
        }
    }

    /// Maps `key` to `id`, replacing the id of an existing key.
    mutating func insert(_ key: [UInt8], id: Int32) {
        if (count + 1) * 2 > slots.count { grow() }
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        let s = key.withUnsafeBufferPointer { slot(of: $0, empty) }
        if slots[s] != 0 {
            ids[Int(slots[s] & 0xFFFF_FFFF) - 1] = id
            return
        }
        let h = key.withUnsafeBufferPointer { Self.hash($0, empty) }
        spans.append(UInt64(arena.count) << 32 | UInt64(key.count))
        ids.append(id)
        arena.append(contentsOf: key)
        slots[s] = (h >> 32) << 32 | UInt64(ids.count)
    }

    /// The id of the key `a + b` (`b` empty by default), if present.
    func id(
        of a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
    ) -> Int32? {
        let v = slots[slot(of: a, b)]
        return v == 0 ? nil : ids[Int(v & 0xFFFF_FFFF) - 1]
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        var fresh = [UInt64](repeating: 0, count: capacity)
        let newMask = capacity - 1
        let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        arena.withUnsafeBufferPointer { arena in
            for e in 0..<ids.count {
                let start = Int(spans[e] >> 32)
                let length = Int(spans[e] & 0xFFFF_FFFF)
                let h = Self.hash(UnsafeBufferPointer(rebasing: arena[start..<start + length]), empty)
                var s = Int(truncatingIfNeeded: h) & newMask
                while fresh[s] != 0 { s = (s + 1) & newMask }
                fresh[s] = (h >> 32) << 32 | UInt64(e + 1)
            }
        }
        slots = fresh
        mask = newMask
    }
}
