import Foundation
import LEMFormats

/// Writes a GGUF v3 file holding only metadata (no tensors): how `lem fuse` keeps a GGUF base's
/// tokenizer (`tokenizer.ggml.*`, `tokenizer.chat_template`) next to the fused safetensors.
///
/// Layout: magic `GGUF`, u32 version 3, u64 tensor count 0, u64 key count, then per key a
/// u64-length string, a u32 type code and the value (strings u64-length-prefixed, arrays a u32
/// element type and u64 count), all little-endian; padded to the 32-byte alignment.
public enum GGUFMetadataWriter {
    /// Writes `pairs` (in order) atomically to `url`.
    public static func write(_ pairs: [(String, GGUFValue)], to url: URL) throws {
        var out: [UInt8] = Array("GGUF".utf8)
        append(&out, UInt32(3))
        append(&out, UInt64(0))
        append(&out, UInt64(pairs.count))
        for (key, value) in pairs {
            appendString(&out, key)
            append(&out, typeCode(value))
            appendValue(&out, value)
        }
        while out.count % 32 != 0 { out.append(0) }
        do { try Data(out).write(to: url, options: .atomic) } catch {
            throw FormatError(url, "cannot write: \(error.localizedDescription)")
        }
    }

    /// GGUF's type code of a value.
    static func typeCode(_ v: GGUFValue) -> UInt32 {
        switch v {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    static func appendValue(_ out: inout [UInt8], _ v: GGUFValue) {
        switch v {
        case .uint8(let x): append(&out, x)
        case .int8(let x): append(&out, x)
        case .uint16(let x): append(&out, x)
        case .int16(let x): append(&out, x)
        case .uint32(let x): append(&out, x)
        case .int32(let x): append(&out, x)
        case .uint64(let x): append(&out, x)
        case .int64(let x): append(&out, x)
        case .float32(let x): append(&out, x.bitPattern)
        case .float64(let x): append(&out, x.bitPattern)
        case .bool(let x): out.append(x ? 1 : 0)
        case .string(let s): appendString(&out, s)
        case .array(let type, let items):
            append(&out, type)
            append(&out, UInt64(items.count))
            for item in items { appendValue(&out, item) }
        }
    }

    static func appendString(_ out: inout [UInt8], _ s: String) {
        let bytes = Array(s.utf8)
        append(&out, UInt64(bytes.count))
        out.append(contentsOf: bytes)
    }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ x: T) {
        withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
    }
}
