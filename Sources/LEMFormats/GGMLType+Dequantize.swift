/// Naive reference decoders, one block at a time, following ggml's `dequantize_row_*`.
///
/// These are the test oracle for any fast kernel: plain loops, no SIMD, f32 arithmetic in the
/// same operation order as ggml (and gguf-py's numpy port), so results match bit for bit.
/// Layout legend: `d`/`dmin` f16 super-scales, `qs` packed low bits, `qh` high bits, `scales`
/// per-sub-block scales (6-bit packed for Q3_K/Q4_K/Q5_K, int8 for Q6_K).
extension GGMLType {
    @inline(__always)
    private static func u8(_ p: UnsafeRawPointer, _ i: Int) -> UInt8 { p.load(fromByteOffset: i, as: UInt8.self) }

    @inline(__always)
    private static func f16(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        HalfFloat.f16ToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
    }

    /// Q4_K / Q5_K 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes.
    @inline(__always)
    private static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (u8(q, j) & 63, u8(q, j + 4) & 63)
        }
        let sc = (u8(q, j + 4) & 0x0F) | ((u8(q, j - 4) >> 6) << 4)
        let m = (u8(q, j + 4) >> 4) | ((u8(q, j) >> 6) << 4)
        return (sc, m)
    }

    /// Q5_0 / Q5_1: each of the 32 5-bit quants `(j, q)` of a block whose 32-bit `qh` (bit j is
    /// the 5th bit of element j) is at byte `qh` and whose 16 bytes of low nibbles start at `qs`.
    @inline(__always)
    private static func q5Quants(_ p: UnsafeRawPointer, qh: Int, qs: Int, _ body: (Int, Int) -> Void) {
        let high = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: qh, as: UInt32.self))
        for j in 0..<16 {
            let b = u8(p, qs + j)
            body(j, Int(b & 0x0F) | Int((high >> UInt32(j)) & 1) << 4)
            body(j + 16, Int(b >> 4) | Int((high >> UInt32(j + 16)) & 1) << 4)
        }
    }

    /// Q2_K / Q3_K: the 2 low bits of element `e` (0..<256) from the 64 bytes at `qs`; each half
    /// of 128 elements is 32 bytes holding four rows of 32, 2 bits apart.
    @inline(__always)
    private static func twoBits(_ p: UnsafeRawPointer, qs: Int, _ e: Int) -> UInt8 {
        let r = e % 128
        return (u8(p, qs + (e / 128) * 32 + r % 32) >> UInt8((r / 32) * 2)) & 3
    }

    /// ggml's `kvalues_mxfp4`: the 16 E2M1 values doubled (so they are integers).
    static let mxfp4Values: [Int8] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]

    /// ggml's `ggml_e8m0_to_fp32_half`: 2^(e − 128), exact (subnormal for e < 2).
    @inline(__always)
    static func e8m0Half(_ e: UInt8) -> Float {
        e < 2 ? Float(bitPattern: UInt32(0x0020_0000) << UInt32(e)) : Float(bitPattern: (UInt32(e) - 1) << 23)
    }

    /// Decodes one block at `src` into `out[0 ..< blockSize]`.
    ///
    /// The caller guarantees `src` holds `typeSize` readable bytes and that `isDecodable`.
    public func dequantizeBlock(_ src: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let p = src
        switch self {
        case .f32:
            out[0] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case .f16:
            out[0] = Self.f16(p, 0)
        case .bf16:
            out[0] = HalfFloat.bf16ToFloat(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        case .f64:
            out[0] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
        case .i8:
            out[0] = Float(p.load(as: Int8.self))
        case .i16:
            out[0] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
        case .i32:
            out[0] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        case .i64:
            out[0] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))

        case .q4_0:  // y = d * (q - 8); element j low nibble, j+16 high nibble
            let d = Self.f16(p, 0)
            for j in 0..<16 {
                let b = Self.u8(p, 2 + j)
                out[j] = d * Float(Int(b & 0x0F) - 8)
                out[j + 16] = d * Float(Int(b >> 4) - 8)
            }
        case .q4_1:  // y = d * q + m
            let d = Self.f16(p, 0)
            let m = Self.f16(p, 2)
            for j in 0..<16 {
                let b = Self.u8(p, 4 + j)
                out[j] = d * Float(b & 0x0F) + m
                out[j + 16] = d * Float(b >> 4) + m
            }
        case .q5_0:  // y = d * (q - 16)
            let d = Self.f16(p, 0)
            Self.q5Quants(p, qh: 2, qs: 6) { j, q in out[j] = d * Float(q - 16) }
        case .q5_1:  // y = d * q + m
            let d = Self.f16(p, 0)
            let m = Self.f16(p, 2)
            Self.q5Quants(p, qh: 4, qs: 8) { j, q in out[j] = d * Float(q) + m }
        case .q8_0:  // y = q * d
            let d = Self.f16(p, 0)
            for j in 0..<32 { out[j] = Float(p.load(fromByteOffset: 2 + j, as: Int8.self)) * d }

        case .q2_K:
            // scales[16] (low nibble scale, high nibble min), qs[64], d, dmin.
            let d = Self.f16(p, 80)
            let dmin = Self.f16(p, 82)
            for e in 0..<256 {
                let q = Self.twoBits(p, qs: 16, e)
                let sc = Self.u8(p, e / 16)
                let dl = d * Float(sc & 0x0F)
                let ml = dmin * Float(sc >> 4)
                out[e] = dl * Float(q) - ml
            }
        case .q3_K:
            // hmask[32], qs[64], scales[12] (16 six-bit values, offset 32), d.
            let d = Self.f16(p, 108)
            for e in 0..<256 {
                let low = Int(Self.twoBits(p, qs: 32, e))
                let high = (Self.u8(p, e % 32) >> UInt8(e / 32)) & 1
                let s = e / 16
                let lowNibble = s < 8 ? Self.u8(p, 96 + s) & 0x0F : Self.u8(p, 96 + s - 8) >> 4
                let highBits = (Self.u8(p, 96 + 8 + s % 4) >> UInt8(2 * (s / 4))) & 3
                let scale = Int(lowNibble | (highBits << 4)) - 32
                let dl = d * Float(scale)
                out[e] = dl * Float(low - (high != 0 ? 0 : 4))
            }
        case .q4_K, .q5_K:
            // d, dmin, scales[12], qs[128] (Q5_K: qh[32] before qs, bit sb of qh[l] is the 5th
            // bit); 8 sub-blocks of 32: y = d*sc*q - dmin*m.
            let fiveBits = self == .q5_K
            let d = Self.f16(p, 0)
            let dmin = Self.f16(p, 2)
            let scales = p + 4
            let qs = fiveBits ? 48 : 16
            for sb in 0..<8 {
                let (sc, m) = Self.scaleMinK4(sb, scales)
                let d1 = d * Float(sc)
                let m1 = dmin * Float(m)
                let shift = UInt8((sb % 2) * 4)
                for l in 0..<32 {
                    let low = (Self.u8(p, qs + (sb / 2) * 32 + l) >> shift) & 0x0F
                    let high = fiveBits ? (Self.u8(p, 16 + l) >> UInt8(sb)) & 1 : 0
                    out[sb * 32 + l] = d1 * Float(low | (high << 4)) - m1
                }
            }
        case .q6_K:
            // ql[128], qh[64], scales[16] (int8), d; y = d * scale * (q - 32).
            let d = Self.f16(p, 208)
            for e in 0..<256 {
                let half = e / 128
                let r = e % 128
                let low = (Self.u8(p, half * 64 + r % 64) >> UInt8((r / 64) * 4)) & 0x0F
                let high = (Self.u8(p, 128 + half * 32 + r % 32) >> UInt8((r / 32) * 2)) & 3
                let q = Int(low | (high << 4)) - 32
                let scale = Float(p.load(fromByteOffset: 192 + e / 16, as: Int8.self))
                out[e] = d * scale * Float(q)
            }
        case .mxfp4:  // y = kvalues[q] · 2^(e − 128): E2M1 doubled, scale halved; j low nibble, j+16 high
            let d = Self.e8m0Half(Self.u8(p, 0))
            for j in 0..<16 {
                let b = Self.u8(p, 1 + j)
                out[j] = Float(Self.mxfp4Values[Int(b & 0x0F)]) * d
                out[j + 16] = Float(Self.mxfp4Values[Int(b >> 4)]) * d
            }
        case .q8_1, .q8_K:
            // Not storage types for weights; loaders reject them before decoding.
            for j in 0..<blockSize { out[j] = .nan }
        }
    }

    /// Decodes `elements` consecutive elements (whole blocks) starting at `src`.
    public func dequantizeRow(_ src: UnsafeRawPointer, count elements: Int, into out: UnsafeMutablePointer<Float>) {
        if self == .f32 {
            UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: elements * 4)
            return
        }
        let bs = blockSize
        let ts = typeSize
        for b in 0..<elements / bs { dequantizeBlock(src + b * ts, into: out + b * bs) }
    }
}
