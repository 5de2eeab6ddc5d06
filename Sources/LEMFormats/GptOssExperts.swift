import Foundation

/// GPT-OSS's expert tensors in the one form the engine reads, whatever the checkpoint stored.
///
/// transformers' `GptOssExperts` holds `mlp.experts.gate_up_proj` [E, C, 2I] (input-major, gate
/// and up interleaved: gate = even columns, up = odd) with `gate_up_proj_bias` [E, 2I], and
/// `down_proj` [E, I, C] with `down_proj_bias` [E, C]. The released checkpoint stores the two
/// matrices as MXFP4 in nn.Linear orientation: `<m>_blocks` [E, out, in/32, 16] bytes (element
/// 2j in the low nibble of byte j, 2j + 1 in the high one) and `<m>_scales` [E, out, in/32] E8M0
/// exponents (value = E2M1 · 2^(s − 127), transformers `convert_moe_packed_tensors`). Both become
/// `mlp.experts.{gate,up,down}_proj.weight` [E, out, in] with `.bias` [E, out] — llama.cpp's
/// split, nn.Linear rows — so expert `e` of a matrix is a row range. Floats keep their dtype;
/// MXFP4 is re-laid as ggml's 17-byte blocks (exponent, then element j low / j + 16 high).
/// Other tensors pass through.
public enum GptOssExperts {
    /// `tensors` with every layer's transformers expert tensors replaced by the split form.
    public static func split(_ tensors: [String: SafetensorsTensor], file: URL) throws -> [String: any WeightTensor] {
        var out: [String: any WeightTensor] = [:]
        var used = Set<String>()
        for name in tensors.keys.sorted() {
            guard let range = name.range(of: "mlp.experts.") else { continue }
            let prefix = String(name[..<range.upperBound])
            guard !used.contains(prefix + "gate_up_proj") else { continue }
            for (matrix, parts) in [("gate_up_proj", ["gate_proj", "up_proj"]), ("down_proj", ["down_proj"])] {
                let base = prefix + matrix
                if let dense = tensors[base] {
                    try splitDense(dense, into: parts, prefix: prefix, file: file, out: &out)
                    used.insert(base)
                } else if let blocks = tensors[base + "_blocks"], let scales = tensors[base + "_scales"] {
                    try splitMXFP4(blocks: blocks, scales: scales, into: parts, prefix: prefix, file: file, out: &out)
                    used.formUnion([base + "_blocks", base + "_scales"])
                } else if let half = tensors[base + "_blocks"] ?? tensors[base + "_scales"] {
                    throw FormatError(
                        file, tensor: half.name,
                        "is half of an MXFP4 pair: \(base)_blocks and \(base)_scales go together")
                }
                if let bias = tensors[base + "_bias"] {
                    try splitBias(bias, into: parts, prefix: prefix, file: file, out: &out)
                    used.insert(base + "_bias")
                }
            }
            used.insert(prefix + "gate_up_proj")
        }
        for (name, t) in tensors where !used.contains(name) { out[name] = t }
        return out
    }

    /// `[E, in, parts·out]` input-major floats (parts interleaved) → `parts` tensors `[E, out, in]`.
    static func splitDense(
        _ t: SafetensorsTensor, into parts: [String], prefix: String, file: URL, out: inout [String: any WeightTensor]
    ) throws {
        guard t.dtype.isFloat, t.dtype != .f64, t.shape.count == 3, t.shape.allSatisfy({ $0 > 0 }),
            t.shape[2] % parts.count == 0
        else {
            throw FormatError(
                file, tensor: t.name,
                "has dtype \(t.dtype.rawValue) and shape \(t.shape), expected F32/F16/BF16 [experts, in, \(parts.count)·out]"
            )
        }
        let (e, k, n) = (t.shape[0], t.shape[1], t.shape[2])
        let out1 = n / parts.count
        let size = t.dtype.size
        let src = t.rawBytes.baseAddress!
        for (p, part) in parts.enumerated() {
            out[prefix + part + ".weight"] = PackedTensor(
                name: prefix + part + ".weight", shape: [e, out1, k], format: .float(t.dtype)
            ) { dst in
                // dst[x][j][c] = src[x][c][j·parts + p]
                for x in 0..<e {
                    for j in 0..<out1 {
                        for c in 0..<k {
                            let from = ((x * k + c) * n + j * parts.count + p) * size
                            let to = ((x * out1 + j) * k + c) * size
                            (dst.baseAddress! + to).copyMemory(from: src + from, byteCount: size)
                        }
                    }
                }
            }
        }
    }

    /// `[E, parts·out]` (interleaved) → `parts` biases `[E, out]`.
    static func splitBias(
        _ t: SafetensorsTensor, into parts: [String], prefix: String, file: URL, out: inout [String: any WeightTensor]
    ) throws {
        guard t.dtype.isFloat, t.dtype != .f64, t.shape.count == 2, t.shape[1] % parts.count == 0, t.shape[1] > 0 else {
            throw FormatError(
                file, tensor: t.name,
                "has dtype \(t.dtype.rawValue) and shape \(t.shape), expected F32/F16/BF16 [experts, \(parts.count)·out]"
            )
        }
        let (e, n) = (t.shape[0], t.shape[1])
        let out1 = n / parts.count
        let size = t.dtype.size
        let src = t.rawBytes.baseAddress!
        for (p, part) in parts.enumerated() {
            out[prefix + part + ".bias"] = PackedTensor(
                name: prefix + part + ".bias", shape: [e, out1], format: .float(t.dtype)
            ) { dst in
                for x in 0..<e {
                    for j in 0..<out1 {
                        (dst.baseAddress! + (x * out1 + j) * size).copyMemory(
                            from: src + (x * n + j * parts.count + p) * size, byteCount: size)
                    }
                }
            }
        }
    }

    /// MXFP4 blocks `[E, parts·out, in/32, 16]` + scales `[E, parts·out, in/32]` (rows of the parts
    /// interleaved) → `parts` ggml MXFP4 tensors `[E, out, in]`.
    static func splitMXFP4(
        blocks: SafetensorsTensor, scales: SafetensorsTensor, into parts: [String], prefix: String, file: URL,
        out: inout [String: any WeightTensor]
    ) throws {
        let s = blocks.shape
        guard blocks.dtype == .u8, s.count == 4, s[3] == 16, s[0] > 0, s[1] > 0, s[2] > 0, s[1] % parts.count == 0
        else {
            throw FormatError(
                file, tensor: blocks.name,
                "has dtype \(blocks.dtype.rawValue) and shape \(s), expected U8 [experts, \(parts.count)·out, in/32, 16]"
            )
        }
        guard scales.dtype == .u8, scales.shape == Array(s.dropLast()) else {
            throw FormatError(
                file, tensor: scales.name,
                "has dtype \(scales.dtype.rawValue) and shape \(scales.shape), expected U8 \(Array(s.dropLast()))")
        }
        let (e, n, groups) = (s[0], s[1], s[2])
        let out1 = n / parts.count
        let codes = blocks.rawBytes.baseAddress!
        let exps = scales.rawBytes.baseAddress!
        let typeSize = GGMLType.mxfp4.typeSize
        for (p, part) in parts.enumerated() {
            out[prefix + part + ".weight"] = PackedTensor(
                name: prefix + part + ".weight", shape: [e, out1, groups * 32], format: .ggml(.mxfp4)
            ) { dst in
                for x in 0..<e {
                    for j in 0..<out1 {
                        let row = x * n + j * parts.count + p
                        for g in 0..<groups {
                            let block = dst.baseAddress! + ((x * out1 + j) * groups + g) * typeSize
                            let hf = codes + (row * groups + g) * 16
                            block.storeBytes(
                                of: exps.load(fromByteOffset: row * groups + g, as: UInt8.self), as: UInt8.self)
                            // transformers: element i = nibble i % 2 of byte i / 2; ggml: byte j = i_j | i_{j+16} << 4
                            func code(_ i: Int) -> UInt8 {
                                (hf.load(fromByteOffset: i / 2, as: UInt8.self) >> (4 * UInt8(i % 2))) & 0x0F
                            }
                            for b in 0..<16 {
                                block.storeBytes(of: code(b) | code(b + 16) << 4, toByteOffset: 1 + b, as: UInt8.self)
                            }
                        }
                    }
                }
            }
        }
    }
}
