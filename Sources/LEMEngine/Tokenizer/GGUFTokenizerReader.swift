import Foundation

/// Reads the `tokenizer.*` metadata of a GGUF file into `GGUFTokenizerValues`.
///
/// Only the header's key/value section is parsed (tensors are skipped), so this stays a small,
/// fast reader; the full GGUF reader lives in LEMFormats.
enum GGUFTokenizerReader {
    /// A metadata value of the kinds the tokenizer keys use.
    enum Value {
        case int(Int), float(Double), bool(Bool), string(String)
        case strings([String]), floats([Float]), ints([Int]), other
    }

    /// Reads the tokenizer values from a GGUF file.
    static func read(_ url: URL) throws -> GGUFTokenizerValues {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TokenizerError.invalidFile(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let kv = try data.withUnsafeBytes { raw in try parse(raw, path: path) }
        guard case .string(let model)? = kv["tokenizer.ggml.model"] else {
            throw TokenizerError.invalidFile(path: path, reason: "missing tokenizer.ggml.model metadata")
        }
        guard case .strings(let tokens)? = kv["tokenizer.ggml.tokens"] else {
            throw TokenizerError.invalidFile(path: path, reason: "missing tokenizer.ggml.tokens metadata")
        }
        var v = GGUFTokenizerValues(model: model, tokens: tokens)
        if case .string(let s)? = kv["tokenizer.ggml.pre"] { v.pre = s }
        if case .floats(let f)? = kv["tokenizer.ggml.scores"] { v.scores = f }
        if case .ints(let t)? = kv["tokenizer.ggml.token_type"] { v.tokenTypes = t }
        if case .strings(let m)? = kv["tokenizer.ggml.merges"] { v.merges = m }
        if case .int(let i)? = kv["tokenizer.ggml.bos_token_id"] { v.bosId = i }
        if case .int(let i)? = kv["tokenizer.ggml.eos_token_id"] { v.eosId = i }
        if case .int(let i)? = kv["tokenizer.ggml.unknown_token_id"] { v.unknownId = i }
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if case .int(let i)? = kv[key] { v.extraEosIds.append(i) }
        }
        if case .bool(let b)? = kv["tokenizer.ggml.add_bos_token"] { v.addBos = b }
        if case .bool(let b)? = kv["tokenizer.ggml.add_eos_token"] { v.addEos = b }
        if case .bool(let b)? = kv["tokenizer.ggml.add_space_prefix"] { v.addSpacePrefix = b }
        if case .string(let s)? = kv["tokenizer.chat_template"] { v.chatTemplate = s }
        return v
    }

    /// Parses the header and key/value section.
    private static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> [String: Value] {
        var cursor = Cursor(raw: raw, path: path)
        guard try cursor.u32() == 0x4655_4747 else {
            throw TokenizerError.invalidFile(path: path, reason: "not a GGUF file (bad magic)")
        }
        let version = try cursor.u32()
        guard version >= 2 && version <= 3 else {
            throw TokenizerError.unsupported(path: path, feature: "GGUF version \(version)")
        }
        _ = try cursor.u64()
        let count = try cursor.u64()
        var kv: [String: Value] = [:]
        for _ in 0..<count {
            let key = try cursor.string()
            let type = try cursor.u32()
            kv[key] = try cursor.value(type: type, wanted: key.hasPrefix("tokenizer."))
        }
        return kv
    }

    /// A bounds-checked reader over the mapped file.
    struct Cursor {
        let raw: UnsafeRawBufferPointer
        let path: String
        var offset = 0

        mutating func need(_ n: Int) throws {
            guard n >= 0, offset + n <= raw.count else {
                throw TokenizerError.invalidFile(path: path, reason: "truncated GGUF metadata at byte \(offset)")
            }
        }
        mutating func u32() throws -> UInt32 {
            try need(4); defer { offset += 4 }
            return raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        }
        mutating func u64() throws -> UInt64 {
            try need(8); defer { offset += 8 }
            return raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
        }
        mutating func string() throws -> String {
            let n = try u64()
            guard n < UInt64(Int32.max) else { throw TokenizerError.invalidFile(path: path, reason: "bad string length at byte \(offset)") }
            try need(Int(n)); defer { offset += Int(n) }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + Int(n))]), as: UTF8.self)
        }
        mutating func scalar(type: UInt32) throws -> Value {
            let sizes: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
            if type == 8 { return .string(try string()) }
            guard let size = sizes[type] else {
                throw TokenizerError.invalidFile(path: path, reason: "unknown GGUF value type \(type) at byte \(offset)")
            }
            try need(size); defer { offset += size }
            switch type {
            case 0: return .int(Int(raw[offset]))
            case 1: return .int(Int(Int8(bitPattern: raw[offset])))
            case 2: return .int(Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            case 3: return .int(Int(raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
            case 4: return .int(Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            case 5: return .int(Int(raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            case 6: return .float(Double(raw.loadUnaligned(fromByteOffset: offset, as: Float.self)))
            case 7: return .bool(raw[offset] != 0)
            case 10: return .int(Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            case 11: return .int(Int(raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
            default: return .float(raw.loadUnaligned(fromByteOffset: offset, as: Double.self))
            }
        }
        mutating func value(type: UInt32, wanted: Bool) throws -> Value {
            guard type == 9 else { return try scalar(type: type) }
            let elementType = try u32()
            let n = try u64()
            guard n < UInt64(raw.count) else { throw TokenizerError.invalidFile(path: path, reason: "bad array length at byte \(offset)") }
            let count = Int(n)
            switch elementType {
            case 8:
                var list: [String] = []
                if wanted { list.reserveCapacity(count) }
                for _ in 0..<count {
                    if wanted { list.append(try string()) } else { let len = try u64(); try need(Int(len)); offset += Int(len) }
                }
                return wanted ? .strings(list) : .other
            case 6 where wanted:
                try need(count * 4)
                var list = [Float](repeating: 0, count: count)
                for i in 0..<count { list[i] = raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: Float.self) }
                offset += count * 4
                return .floats(list)
            default:
                var ints: [Int] = []
                for _ in 0..<count {
                    if case .int(let i) = try value(type: elementType, wanted: wanted), wanted { ints.append(i) }
                }
                return wanted ? .ints(ints) : .other
            }
        }
    }
}
