// NEON bodies of the 8-bit-activation row dots (issue 21), included by `dot_neon.c` on arm64
// (Apple Silicon, Graviton) and, through SIMDe's NEON-on-x86 headers, by the test target
// `CLEMNeonEmulation`, which checks them here against the scalar oracle.
//
// Each block's integer dot is computed in NEON registers (`sdot`, `vdotq_s32`, with
// LEM_SDOT = 1; else widening multiplies and pairwise adds, base ARMv8) and is exact; the
// block's float arithmetic is the scalar oracle's (the shared `lem_*_block` helpers, and for the
// K-quants the same expressions), so a row equals the oracle's bit for bit wherever both compile
// to the same float operations.
//
// The includer defines LEM_N(name) (the functions' suffix) and LEM_SDOT, and includes
// `lem_internal.h` and the NEON intrinsics first.

/// Σ w·q over 32 elements: `w0`/`w1` hold elements 0–15 and 16–31, each |w| ≤ 128, |q| ≤ 127
/// (so two products never overflow an int16 lane).
static inline int32_t LEM_N(idot32)(int8x16_t w0, int8x16_t w1, const int8_t *q) {
    int8x16_t q0 = vld1q_s8(q), q1 = vld1q_s8(q + 16);
#if LEM_SDOT
    int32x4_t acc = vdotq_s32(vdupq_n_s32(0), w0, q0);
    acc = vdotq_s32(acc, w1, q1);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(q0));
    p0 = vmlal_s8(p0, vget_high_s8(w0), vget_high_s8(q0));
    int16x8_t p1 = vmull_s8(vget_low_s8(w1), vget_low_s8(q1));
    p1 = vmlal_s8(p1, vget_high_s8(w1), vget_high_s8(q1));
    int32x4_t acc = vpadalq_s16(vpaddlq_s16(p0), p1);
#endif
    return vaddvq_s32(acc);
}

/// Σ w·q over 16 elements (`w` as above).
static inline int32_t LEM_N(idot16)(int8x16_t w, const int8_t *q) {
    int8x16_t qv = vld1q_s8(q);
#if LEM_SDOT
    return vaddvq_s32(vdotq_s32(vdupq_n_s32(0), w, qv));
#else
    int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(qv));
    p = vmlal_s8(p, vget_high_s8(w), vget_high_s8(qv));
    return vaddvq_s32(vpaddlq_s16(p));
#endif
}

/// The 16 bytes at `p` as low nibbles (elements 0–15) and high nibbles (16–31).
static inline void LEM_N(nibbles)(const uint8_t *p, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(p);
    *lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

/// 16 lanes of 0x10 where bits `first ..< first + 16` of `qh` are set, 0 elsewhere.
static inline int8x16_t LEM_N(fifth_bits)(uint32_t qh, int first) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t h = qh >> first;
    uint8x16_t bytes = vcombine_u8(vdup_n_u8((uint8_t)(h & 0xFF)), vdup_n_u8((uint8_t)((h >> 8) & 0xFF)));
    uint8x16_t set = vtstq_u8(bytes, vld1q_u8(bit));
    return vreinterpretq_s8_u8(vandq_u8(set, vdupq_n_u8(0x10)));
}

/// Q4_0/Q4_1 (`has_min`: the _1 types), and Q5_0/Q5_1 with `five`.
static float LEM_N(dot_q4_q5)(const uint8_t *row, const lem_act *a, int has_min, int five) {
    float sum = 0;
    int qs = 2 + 2 * has_min + 4 * five, bytes = qs + 16;
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p = row + bytes * b;
        int8x16_t w0, w1;
        LEM_N(nibbles)(p + qs, &w0, &w1);
        if (five) {
            uint32_t qh = lem_q5_high(p, qs);
            w0 = vorrq_s8(w0, LEM_N(fifth_bits)(qh, 0));
            w1 = vorrq_s8(w1, LEM_N(fifth_bits)(qh, 16));
        }
        int32_t isum = LEM_N(idot32)(w0, w1, a->q + 32 * b);
        sum += five ? lem_q5_block(p, has_min, a, b, isum) : lem_q4_block(p, has_min, a, b, isum);
    }
    return sum;
}

static float LEM_N(dot_q8_0)(const uint8_t *row, const lem_act *a) {
    float sum = 0;
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p = row + 34 * b;
        int8x16_t w0 = vld1q_s8((const int8_t *)(p + 2)), w1 = vld1q_s8((const int8_t *)(p + 18));
        sum += lem_q8_0_block(p, a, b, LEM_N(idot32)(w0, w1, a->q + 32 * b));
    }
    return sum;
}

/// Q4_K, and Q5_K with `five` (the fifth bit of element l of sub-block j is bit j of byte 16 + l).
static float LEM_N(dot_q4_k)(const uint8_t *row, const lem_act *a, int five) {
    float sum = 0;
    int bytes = five ? 176 : 144, qs = five ? 48 : 16;
    const uint8x16_t low = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
    for (int32_t sbk = 0; sbk < a->cols / 256; sbk++) {
        const uint8_t *p = row + bytes * sbk;
        for (int j = 0; j < 8; j++) {
            const uint8_t *src = p + qs + (j / 2) * 32;
            const int8x16_t shift = vdupq_n_s8((int8_t)(-(j % 2) * 4));  // a right shift
            uint8x16_t u0 = vandq_u8(vshlq_u8(vld1q_u8(src), shift), low);
            uint8x16_t u1 = vandq_u8(vshlq_u8(vld1q_u8(src + 16), shift), low);
            if (five) {
                const int8x16_t down = vdupq_n_s8((int8_t)-j);
                u0 = vorrq_u8(u0, vshlq_n_u8(vandq_u8(vshlq_u8(vld1q_u8(p + 16), down), one), 4));
                u1 = vorrq_u8(u1, vshlq_n_u8(vandq_u8(vshlq_u8(vld1q_u8(p + 32), down), one), 4));
            }
            int32_t b = sbk * 8 + j;
            int32_t isum = LEM_N(idot32)(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(u1), a->q + 32 * b);
            sum += lem_q4k_block(p, j, a, b, isum);
        }
    }
    return sum;
}

/// Q6_K: element e of a super-block is (low nibble | high two bits << 4) − 32, scaled by
/// scales[e / 16]; a 32-element sub-block reads 32 consecutive low bytes and 32 high bytes, each
/// with one shift.
static float LEM_N(dot_q6_k)(const uint8_t *row, const lem_act *a) {
    float sum = 0;
    const uint8x16_t low = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
    const int8x16_t bias = vdupq_n_s8(32);
    for (int32_t sbk = 0; sbk < a->cols / 256; sbk++) {
        const uint8_t *p = row + 210 * sbk;
        const int8_t *scales = (const int8_t *)(p + 192);
        for (int j = 0; j < 8; j++) {
            int32_t b = sbk * 8 + j;
            int half = j / 4, r = (32 * j) % 128;
            const uint8_t *lo = p + half * 64 + r % 64, *hi = p + 128 + half * 32;
            const int8x16_t lshift = vdupq_n_s8((int8_t)(-(r / 64) * 4)), hshift = vdupq_n_s8((int8_t)(-(r / 32) * 2));
            int8x16_t w[2];
            for (int k = 0; k < 2; k++) {
                uint8x16_t l4 = vandq_u8(vshlq_u8(vld1q_u8(lo + 16 * k), lshift), low);
                uint8x16_t h2 = vandq_u8(vshlq_u8(vld1q_u8(hi + 16 * k), hshift), three);
                w[k] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l4, vshlq_n_u8(h2, 4))), bias);
            }
            const int8_t *q = a->q + 32 * b;
            int32_t isum = scales[2 * j] * LEM_N(idot16)(w[0], q) + scales[2 * j + 1] * LEM_N(idot16)(w[1], q + 16);
            sum += lem_q6k_block(p, a, b, isum);
        }
    }
    return sum;
}

/// The row dot of an 8-bit-activation format through the NEON bodies; `fallback` (the scalar
/// oracle) for the float and MLX formats.
static float LEM_N(dot_row)(const lem_matrix *m, int32_t stored, const lem_act *a,
                            float (*fallback)(const lem_matrix *, int32_t, const lem_act *)) {
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    if (!a->q8) return fallback(m, stored, a);
    switch (m->format) {
    case LEM_FMT_Q4_0: return LEM_N(dot_q4_q5)(row, a, 0, 0);
    case LEM_FMT_Q4_1: return LEM_N(dot_q4_q5)(row, a, 1, 0);
    case LEM_FMT_Q5_0: return LEM_N(dot_q4_q5)(row, a, 0, 1);
    case LEM_FMT_Q5_1: return LEM_N(dot_q4_q5)(row, a, 1, 1);
    case LEM_FMT_Q8_0: return LEM_N(dot_q8_0)(row, a);
    case LEM_FMT_Q4_K: return LEM_N(dot_q4_k)(row, a, 0);
    case LEM_FMT_Q5_K: return LEM_N(dot_q4_k)(row, a, 1);
    case LEM_FMT_Q6_K: return LEM_N(dot_q6_k)(row, a);
    default: return fallback(m, stored, a);
    }
}
