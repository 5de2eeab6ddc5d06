// The row-dot bodies of one instruction-set variant, included by dot_avx2.c (AVX2 + FMA + F16C)
// and dot_vnni.c (the same with AVX-512 VNNI on 256-bit registers) inside their target pragma.
// `LEM_VNNI` picks how a block's u8 × i8 products are summed: `maddubs` + `madd` (AVX2) or one
// `vpdpbusd` (VNNI). The products never saturate 16 bits here (see each kernel), so both give the
// same exact i32 sums and the two variants return the same floats, bit for bit (tested).
// `LEM_K(name)` gives the variant's name of an exported function.

static inline float f16x(const uint8_t *p) { return _cvtsh_ss(lem_u16(p)); }

static inline __m256i combine(__m128i lo, __m128i hi) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

/// Σ u8 × i8 over each 32-bit lane's four bytes: 8 exact i32 partial sums. A pair of products
/// fits 16 bits for every weight range below (u4/u5 nibbles; |w| ≤ 128 after the sign trick).
static inline __m256i sum_u8_i8(__m256i u, __m256i s) {
#if LEM_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/// Σ u8 × i8 over 32 lanes as 8 float partial sums.
static inline __m256 dot_u8_i8(__m256i u, __m256i s) { return _mm256_cvtepi32_ps(sum_u8_i8(u, s)); }

/// Σ i8 × i8 over 32 lanes (|w| · sign-adjusted activation).
static inline __m256 dot_i8_i8(__m256i w, __m256i q) {
    return dot_u8_i8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w));
}

static inline __m256i load_q(const lem_act *a, int32_t b) {
    return _mm256_loadu_si256((const __m256i *)(a->q + 32 * b));
}

// Each kernel keeps two independent accumulator chains (even and odd blocks, both for the vector
// sum and the scalar offset): one chain serialises every block on the FMA latency (4–5 cycles),
// longer than the block's own integer work on this machine.

static float dot_q4_0(const uint8_t *row, const lem_act *a) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off0 = 0, off1 = 0;
    int32_t blocks = a->cols / 32, b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *p = row + 18 * b;
        float d0 = f16x(p), d1 = f16x(p + 18);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * a->d[b]), dot_u8_i8(lem_nibbles_gguf(p + 2), load_q(a, b)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * a->d[b + 1]), dot_u8_i8(lem_nibbles_gguf(p + 20), load_q(a, b + 1)), acc1);
        off0 += d0 * a->s[b];
        off1 += d1 * a->s[b + 1];
    }
    if (b < blocks) {
        const uint8_t *p = row + 18 * b;
        float dw = f16x(p);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(dw * a->d[b]), dot_u8_i8(lem_nibbles_gguf(p + 2), load_q(a, b)), acc0);
        off0 += dw * a->s[b];
    }
    return lem_hsum8(_mm256_add_ps(acc0, acc1)) - 8 * (off0 + off1);
}

static float dot_q4_1(const uint8_t *row, const lem_act *a) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off0 = 0, off1 = 0;
    int32_t blocks = a->cols / 32, b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *p = row + 20 * b;
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p) * a->d[b]), dot_u8_i8(lem_nibbles_gguf(p + 4), load_q(a, b)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p + 20) * a->d[b + 1]), dot_u8_i8(lem_nibbles_gguf(p + 24), load_q(a, b + 1)), acc1);
        off0 += f16x(p + 2) * a->s[b];
        off1 += f16x(p + 22) * a->s[b + 1];
    }
    if (b < blocks) {
        const uint8_t *p = row + 20 * b;
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p) * a->d[b]), dot_u8_i8(lem_nibbles_gguf(p + 4), load_q(a, b)), acc0);
        off0 += f16x(p + 2) * a->s[b];
    }
    return lem_hsum8(_mm256_add_ps(acc0, acc1)) + (off0 + off1);
}

/// One Q5_0 (`has_min` 0: offset 16) or Q5_1 block's scaled integer dot; its offset term goes to `off`.
static inline __m256 q5_block(const uint8_t *p, const lem_act *a, int32_t b, int has_min, __m256 acc, float *off) {
    float dw = f16x(p);
    __m256i w = _mm256_or_si256(lem_nibbles_gguf(p + (has_min ? 8 : 6)), lem_bits_to_0x10(p + (has_min ? 4 : 2)));
    *off += (has_min ? f16x(p + 2) : dw) * a->s[b];
    return _mm256_fmadd_ps(_mm256_set1_ps(dw * a->d[b]), dot_u8_i8(w, load_q(a, b)), acc);
}

static inline float dot_q5(const uint8_t *row, const lem_act *a, int has_min) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off0 = 0, off1 = 0;
    int32_t blocks = a->cols / 32, b = 0, bytes = has_min ? 24 : 22;
    for (; b + 1 < blocks; b += 2) {
        acc0 = q5_block(row + bytes * b, a, b, has_min, acc0, &off0);
        acc1 = q5_block(row + bytes * (b + 1), a, b + 1, has_min, acc1, &off1);
    }
    if (b < blocks) acc0 = q5_block(row + bytes * b, a, b, has_min, acc0, &off0);
    float sum = lem_hsum8(_mm256_add_ps(acc0, acc1));
    return has_min ? sum + (off0 + off1) : sum - 16 * (off0 + off1);
}

static float dot_q5_0(const uint8_t *row, const lem_act *a) { return dot_q5(row, a, 0); }

static float dot_q5_1(const uint8_t *row, const lem_act *a) { return dot_q5(row, a, 1); }

static float dot_q8_0(const uint8_t *row, const lem_act *a) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int32_t blocks = a->cols / 32, b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *p = row + 34 * b;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(p + 2));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(p + 36));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p) * a->d[b]), dot_i8_i8(w0, load_q(a, b)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p + 34) * a->d[b + 1]), dot_i8_i8(w1, load_q(a, b + 1)), acc1);
    }
    for (; b < blocks; b++) {
        const uint8_t *p = row + 34 * b;
        __m256i w = _mm256_loadu_si256((const __m256i *)(p + 2));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16x(p) * a->d[b]), dot_i8_i8(w, load_q(a, b)), acc0);
    }
    return lem_hsum8(_mm256_add_ps(acc0, acc1));
}

/// MXFP4: each block's codes looked up as doubled E2M1 integers (|w| ≤ 12, `shuffle_epi8` on a
/// 16-entry table) and dotted by the sign trick; scaled by 2^(e − 128) · d_x.
static float dot_mxfp4(const uint8_t *row, const lem_act *a) {
    const __m256i table = combine(_mm_loadu_si128((const __m128i *)lem_mxfp4_values),
                                  _mm_loadu_si128((const __m128i *)lem_mxfp4_values));
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int32_t blocks = a->cols / 32, b = 0;
    for (; b + 1 < blocks; b += 2) {
        const uint8_t *p = row + 17 * b;
        __m256i w0 = _mm256_shuffle_epi8(table, lem_nibbles_gguf(p + 1));
        __m256i w1 = _mm256_shuffle_epi8(table, lem_nibbles_gguf(p + 18));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(lem_e8m0_half(p[0]) * a->d[b]), dot_i8_i8(w0, load_q(a, b)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(lem_e8m0_half(p[17]) * a->d[b + 1]), dot_i8_i8(w1, load_q(a, b + 1)), acc1);
    }
    if (b < blocks) {
        const uint8_t *p = row + 17 * b;
        __m256i w = _mm256_shuffle_epi8(table, lem_nibbles_gguf(p + 1));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(lem_e8m0_half(p[0]) * a->d[b]), dot_i8_i8(w, load_q(a, b)), acc0);
    }
    return lem_hsum8(_mm256_add_ps(acc0, acc1));
}

/// Q4_K / Q5_K (`five`) rows against `n` activations (1 ... 4, a constant after inlining): each
/// super-block is unpacked once for all of them. Per activation, the eight blocks' exact integer
/// sums are gathered into one vector and scaled by the blocks' `d · scale · d_x` at once, and the
/// minimums' term is a vector too; the float operations and their order do not depend on `n`, so
/// `out[t · stride]` equals the one-activation kernel's result bit for bit.
static inline __attribute__((always_inline)) void q45_k_rows(const uint8_t *row, const lem_act *acts, const int n,
                                                             int five, float *out, size_t stride) {
    __m256 acc[4], off[4];
    for (int t = 0; t < n; t++) acc[t] = off[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    int bytes = five ? 176 : 144, qs = five ? 48 : 16;
    for (int32_t sbk = 0; sbk < acts[0].cols / 256; sbk++) {
        const uint8_t *p = row + bytes * sbk;
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) lem_scale_min_k4(j, p + 4, &sc[j], &mn[j]);
        __m256 scale = _mm256_mul_ps(_mm256_set1_ps(f16x(p)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)sc))));
        __m256 mins = _mm256_mul_ps(_mm256_set1_ps(f16x(p + 2)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)mn))));
        __m256i hv = five ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
        __m256i w[8];
        for (int k = 0; k < 4; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(p + qs + 32 * k));
            w[2 * k] = _mm256_and_si256(v, m4);
            w[2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (five) {
                __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * k), one);
                __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hv, 2 * k + 1), one);
                w[2 * k] = _mm256_or_si256(w[2 * k], _mm256_slli_epi16(h0, 4));
                w[2 * k + 1] = _mm256_or_si256(w[2 * k + 1], _mm256_slli_epi16(h1, 4));
            }
        }
        int32_t b0 = sbk * 8;
        for (int t = 0; t < n; t++) {
            const lem_act *a = &acts[t];
            __m256i part[8];
            for (int j = 0; j < 8; j++) part[j] = sum_u8_i8(w[j], load_q(a, b0 + j));
            __m256 sums = lem_sum8_i32(part);
            acc[t] = _mm256_fmadd_ps(sums, _mm256_mul_ps(scale, _mm256_loadu_ps(a->d + b0)), acc[t]);
            off[t] = _mm256_fmadd_ps(mins, _mm256_loadu_ps(a->s + b0), off[t]);
        }
    }
    for (int t = 0; t < n; t++) out[(size_t)t * stride] = lem_hsum8(_mm256_sub_ps(acc[t], off[t]));
}

static float dot_q45_k(const uint8_t *row, const lem_act *a, int five) {
    float r;
    q45_k_rows(row, a, 1, five, &r, 1);
    return r;
}

/// One Q6_K block's weights `w` (values − 32) against block `b` of `a`, each half of 16 times its
/// own 8-bit scale: eight exact i32 lane sums (|Σ| per block ≤ 32 · 32 · 127 · 128 < 2^24, so the
/// block's sum is exact in i32 and in f32).
static inline __m256i q6_part(__m256i w, const lem_act *a, int32_t b, const int8_t *scales, int blk) {
    __m256i qa = load_q(a, b);
#if LEM_VNNI
    __m256i sv = combine(_mm_set1_epi32(scales[2 * blk]), _mm_set1_epi32(scales[2 * blk + 1]));
    __m256i p32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(qa, w));
    return _mm256_mullo_epi32(p32, sv);
#else
    __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(qa, w));
    __m256i sv = combine(_mm_set1_epi16(scales[2 * blk]), _mm_set1_epi16(scales[2 * blk + 1]));
    return _mm256_madd_epi16(p16, sv);
#endif
}

/// Q6_K rows against `n` activations (as `q45_k_rows`: a super-block's eight scaled block sums
/// gathered into one vector, times `d · d_x` of each block).
static inline __attribute__((always_inline)) void q6_k_rows(const uint8_t *row, const lem_act *acts, const int n,
                                                            float *out, size_t stride) {
    __m256 acc[4];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3), c32 = _mm256_set1_epi8(32);
    for (int32_t sbk = 0; sbk < acts[0].cols / 256; sbk++) {
        const uint8_t *p = row + 210 * sbk;
        __m256 d = _mm256_set1_ps(f16x(p + 208));
        const int8_t *scales = (const int8_t *)(p + 192);
        __m256i w[8];
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(p + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(p + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * h));
            w[4 * h] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            w[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            w[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            w[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
        }
        for (int j = 0; j < 8; j++) w[j] = _mm256_sub_epi8(w[j], c32);
        int32_t b0 = sbk * 8;
        for (int t = 0; t < n; t++) {
            __m256i part[8];
            for (int j = 0; j < 8; j++) part[j] = q6_part(w[j], &acts[t], b0 + j, scales, j);
            __m256 sums = lem_sum8_i32(part);
            acc[t] = _mm256_fmadd_ps(sums, _mm256_mul_ps(d, _mm256_loadu_ps(acts[t].d + b0)), acc[t]);
        }
    }
    for (int t = 0; t < n; t++) out[(size_t)t * stride] = lem_hsum8(acc[t]);
}

static float dot_q6_k(const uint8_t *row, const lem_act *a) {
    float r;
    q6_k_rows(row, a, 1, &r, 1);
    return r;
}

static inline float scale_x(const uint8_t *p, int32_t type, int32_t i) {
    return type == LEM_SCALE_F16 ? _cvtsh_ss(lem_u16(p + 2 * i)) : lem_scale_at(p, type, i);
}

/// One MLX block's scaled integer dot (scale `sc`). 4-bit: byte j holds elements 2j (low nibble) and
/// 2j + 1 (high); against `a->q_mlx` (each block's even elements, then its odd ones) the nibbles
/// split with a shift and a mask, else they are interleaved back into element order.
static inline __m256 mlx_block(const uint8_t *row, const lem_act *a, int32_t b, int bits, float sc, __m256 acc) {
    __m256 d = _mm256_set1_ps(sc * a->d[b]);
    if (bits == 8) {
        __m256i w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row + 32 * b)), _mm256_set1_epi8((char)0x80));
        return _mm256_fmadd_ps(d, dot_i8_i8(w, load_q(a, b)), acc);
    }
    if (a->q_mlx) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->q_mlx + 32 * b));
        return _mm256_fmadd_ps(d, dot_u8_i8(lem_nibbles_gguf(row + 16 * b), q), acc);
    }
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m128i raw = _mm_loadu_si128((const __m128i *)(row + 16 * b));
    __m128i lo = _mm_and_si128(raw, m4), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m4);
    __m256i w = combine(_mm_unpacklo_epi8(lo, hi), _mm_unpackhi_epi8(lo, hi));
    return _mm256_fmadd_ps(d, dot_u8_i8(w, load_q(a, b)), acc);
}

static inline __attribute__((always_inline)) float dot_mlx(const lem_matrix *m, const uint8_t *row, int32_t r, const lem_act *a, int bits) {
    int32_t groups = m->cols / m->group_size;
    size_t ss = (size_t)lem_scale_size(m->scale_type);
    const uint8_t *sp = m->scales + (size_t)r * groups * ss, *bp = m->biases + (size_t)r * groups * ss;
    int32_t per = m->group_size / 32;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off0 = 0, off1 = 0;
    for (int32_t g = 0; g < groups; g++) {
        float sc = scale_x(sp, m->scale_type, g), bias = scale_x(bp, m->scale_type, g);
        // The offset per unit of activation: the bias, plus 128·scale for 8-bit (stored unsigned).
        float o = bits == 4 ? bias : 128 * sc + bias;
        int32_t k = 0, b = g * per;
        for (; k + 1 < per; k += 2, b += 2) {
            acc0 = mlx_block(row, a, b, bits, sc, acc0);
            acc1 = mlx_block(row, a, b + 1, bits, sc, acc1);
            off0 += o * a->s[b];
            off1 += o * a->s[b + 1];
        }
        if (k < per) {
            acc0 = mlx_block(row, a, b, bits, sc, acc0);
            off0 += o * a->s[b];
        }
    }
    return lem_hsum8(_mm256_add_ps(acc0, acc1)) + (off0 + off1);
}

static float dot_float(const lem_matrix *m, const uint8_t *row, const lem_act *a) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int32_t n = m->cols, i = 0;
    const float *x = a->x;
    switch (m->format) {
    case LEM_FMT_F16:
        for (; i + 16 <= n; i += 16) {
            __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
            __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * i + 16)));
            acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), acc0);
            acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), acc1);
        }
        break;
    case LEM_FMT_BF16:
        for (; i + 16 <= n; i += 16) {
            __m256i u0 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i)));
            __m256i u1 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 2 * i + 16)));
            acc0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(u0, 16)), _mm256_loadu_ps(x + i), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(u1, 16)), _mm256_loadu_ps(x + i + 8), acc1);
        }
        break;
    default:
        for (; i + 16 <= n; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(row + 4 * i)), _mm256_loadu_ps(x + i), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(row + 4 * i + 32)), _mm256_loadu_ps(x + i + 8), acc1);
        }
        break;
    }
    float sum = lem_hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) {
        float w;
        switch (m->format) {
        case LEM_FMT_F16: w = lem_f16(lem_u16(row + 2 * i)); break;
        case LEM_FMT_BF16: w = lem_bf16(lem_u16(row + 2 * i)); break;
        default: memcpy(&w, row + 4 * i, 4); break;
        }
        sum += w * x[i];
    }
    return sum;
}

float LEM_K(lem_dot_row)(const lem_matrix *m, int32_t stored, const lem_act *a) {
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    switch (m->format) {
    case LEM_FMT_Q4_0: return dot_q4_0(row, a);
    case LEM_FMT_Q4_1: return dot_q4_1(row, a);
    case LEM_FMT_Q5_0: return dot_q5_0(row, a);
    case LEM_FMT_Q5_1: return dot_q5_1(row, a);
    case LEM_FMT_Q8_0: return dot_q8_0(row, a);
    case LEM_FMT_Q4_K: return dot_q45_k(row, a, 0);
    case LEM_FMT_Q5_K: return dot_q45_k(row, a, 1);
    case LEM_FMT_Q6_K: return dot_q6_k(row, a);
    case LEM_FMT_MXFP4: return dot_mxfp4(row, a);
    case LEM_FMT_MLX4: return dot_mlx(m, row, stored, a, 4);
    case LEM_FMT_MLX8: return dot_mlx(m, row, stored, a, 8);
    default: return dot_float(m, row, a);
    }
}

void LEM_K(lem_dot_row_multi)(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out,
                              size_t stride) {
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    for (; n > 0; n -= 4, acts += 4, out += 4 * stride) {
        int k = n < 4 ? n : 4;
        switch (m->format) {
        case LEM_FMT_Q4_K: case LEM_FMT_Q5_K: {
            int five = m->format == LEM_FMT_Q5_K;
            if (k == 4) q45_k_rows(row, acts, 4, five, out, stride);
            else if (k == 3) q45_k_rows(row, acts, 3, five, out, stride);
            else if (k == 2) q45_k_rows(row, acts, 2, five, out, stride);
            else q45_k_rows(row, acts, 1, five, out, stride);
            break;
        }
        case LEM_FMT_Q6_K:
            if (k == 4) q6_k_rows(row, acts, 4, out, stride);
            else if (k == 3) q6_k_rows(row, acts, 3, out, stride);
            else if (k == 2) q6_k_rows(row, acts, 2, out, stride);
            else q6_k_rows(row, acts, 1, out, stride);
            break;
        default:
            for (int t = 0; t < k; t++) out[(size_t)t * stride] = LEM_K(lem_dot_row)(m, stored, &acts[t]);
            break;
        }
    }
}
