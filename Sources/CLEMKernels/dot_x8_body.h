// The interleaved ("x8") decode dots of one instruction-set variant, included by dot_x8.c (AVX2)
// and dot_vnni.c (AVX-512 VNNI on 256-bit registers) inside their target pragma; see dot_x8.c for
// the layout. `LEM_VNNI` sums each lane's four u8 × i8 products with `vpdpbusd` instead of
// `maddubs` + `madd`: the same exact i32 sums, so both variants give the same floats.

/// The copy is one stream per thread, yet the hardware prefetcher alone left two threads at
/// 12–13 GB/s on a DRAM-resident Q4_0 matrix; fetching 2 KiB ahead (three lines, a block and its
/// scales) gave 17 GB/s (measured: 512 B, 1 KiB and 4 KiB ahead were slower).
static inline void prefetch_ahead(const uint8_t *g) {
    const char *p = (const char *)g + 2048;
    _mm_prefetch(p, _MM_HINT_T0);
    _mm_prefetch(p + 64, _MM_HINT_T0);
    _mm_prefetch(p + 128, _MM_HINT_T0);
}

/// Eight 16-bit or 32-bit scales at `p` as floats.
static inline __m256 scales8(const uint8_t *p, int32_t type) {
    switch (type) {
    case LEM_SCALE_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    case LEM_SCALE_BF16:
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    default: return _mm256_loadu_ps((const float *)p);
    }
}

/// For vector v's low (h = 0) and high (h = 1) nibbles: per 32-bit lane, the index of the lane's
/// byte holding bits 4v .. 4v+3 (+16) of the Q5_0 high bits, repeated four times.
#define Q5_P4(x) x, x, x, x
#define Q5_PICK(b) {Q5_P4(b), Q5_P4(b + 4), Q5_P4(b + 8), Q5_P4(b + 12), Q5_P4(b), Q5_P4(b + 4), Q5_P4(b + 8), Q5_P4(b + 12)}
static const int8_t q5_pick[4][2][32] = {
    {Q5_PICK(0), Q5_PICK(2)}, {Q5_PICK(0), Q5_PICK(2)}, {Q5_PICK(1), Q5_PICK(3)}, {Q5_PICK(1), Q5_PICK(3)}};

/// The Q5_0 high bits of vector v for eight rows: `qh` holds row i's 32 bits in lane i; byte j
/// of lane i becomes 0x10 when bit 4v + j (low nibbles, `h` = 0) or 16 + 4v + j (high nibbles)
/// is set.
static inline __m256i q5_high(__m256i qh, int v, int h, __m256i mask) {
    __m256i bits = _mm256_and_si256(_mm256_shuffle_epi8(qh, _mm256_loadu_si256((const __m256i *)q5_pick[v][h])), mask);
    return _mm256_and_si256(_mm256_cmpeq_epi8(bits, mask), _mm256_set1_epi8(0x10));
}

// MARK: several activations at once (batched decode, prefill)

/// The four activation bytes at `p` in all eight 32-bit lanes.
static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/// Σ u[j] × chunk j of one 32-byte activation block `q` (chunk j: bytes 4j .. 4j+3, broadcast to
/// every lane) over the eight unpacked weight vectors, as exact i32 lane sums. Without VNNI a
/// 16-bit lane adds pairs of u4 × i8 products, at most 8 · 15 · 127 = 15240 per half, so nibbles
/// (`five` 0) sum both halves in 16 bits; u5 values (`five` 1) reach 4 · 2 · 31 · 127 = 31496 per
/// half, so the halves meet in 32 bits.
static inline __m256i unsigned_sums(const __m256i u[8], const int8_t *q, int five) {
#if LEM_VNNI
    (void)five;
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        s0 = _mm256_dpbusd_epi32(s0, u[j], bcast4(q + 4 * j));
        s1 = _mm256_dpbusd_epi32(s1, u[4 + j], bcast4(q + 16 + 4 * j));
    }
    return _mm256_add_epi32(s0, s1);
#else
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(u[j], bcast4(q + 4 * j)));
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(u[4 + j], bcast4(q + 16 + 4 * j)));
    }
    if (five) return _mm256_add_epi32(_mm256_madd_epi16(s0, ones), _mm256_madd_epi16(s1, ones));
    return _mm256_madd_epi16(_mm256_add_epi16(s0, s1), ones);
#endif
}

/// Σ w[v] × chunk v of `q` for Q8_0's signed weights: the sign moved onto the activation, so a
/// pair of products is at most 2 · 128 · 127 < 32767.
static inline __m256i signed_sums(const __m256i w[8], const __m256i aw[8], const int8_t *q) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#if LEM_VNNI
    for (int v = 0; v < 8; v += 2) {
        s0 = _mm256_dpbusd_epi32(s0, aw[v], _mm256_sign_epi8(bcast4(q + 4 * v), w[v]));
        s1 = _mm256_dpbusd_epi32(s1, aw[v + 1], _mm256_sign_epi8(bcast4(q + 4 * v + 4), w[v + 1]));
    }
#else
    const __m256i ones = _mm256_set1_epi16(1);
    for (int v = 0; v < 8; v += 2) {
        s0 = _mm256_add_epi32(
            s0, _mm256_madd_epi16(_mm256_maddubs_epi16(aw[v], _mm256_sign_epi8(bcast4(q + 4 * v), w[v])), ones));
        s1 = _mm256_add_epi32(
            s1,
            _mm256_madd_epi16(_mm256_maddubs_epi16(aw[v + 1], _mm256_sign_epi8(bcast4(q + 4 * v + 4), w[v + 1])), ones));
    }
#endif
    return _mm256_add_epi32(s0, s1);
}

/// `unsigned_sums` of one block's eight rows of nibbles (4 × 32 bytes at `w`) against one
/// activation, each vector unpacked as it is used (one activation keeps few registers live).
static inline __m256i nibble_sums(const uint8_t *w, const int8_t *q) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int v = 0; v < 4; v++) {
        __m256i raw = _mm256_loadu_si256((const __m256i *)(w + 32 * v));
        __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
#if LEM_VNNI
        s0 = _mm256_dpbusd_epi32(s0, lo, bcast4(q + 4 * v));
        s1 = _mm256_dpbusd_epi32(s1, hi, bcast4(q + 16 + 4 * v));
#else
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(lo, bcast4(q + 4 * v)));
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(hi, bcast4(q + 16 + 4 * v)));
#endif
    }
#if LEM_VNNI
    return _mm256_add_epi32(s0, s1);
#else
    return _mm256_madd_epi16(_mm256_add_epi16(s0, s1), _mm256_set1_epi16(1));
#endif
}

/// One block's eight rows of nibbles (4 × 32 bytes at `w`) as u[0..3] low and u[4..7] high.
static inline void unpack_nibbles(const uint8_t *w, __m256i u[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int v = 0; v < 4; v++) {
        __m256i raw = _mm256_loadu_si256((const __m256i *)(w + 32 * v));
        u[v] = _mm256_and_si256(raw, m4);
        u[4 + v] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
    }
}

/// One Q5_0 block of eight rows (`g`: `[8 × f16 d][8 × u32 high bits][4 × 32 B nibbles]`) as u5
/// values (the stored q; the kernel subtracts 16 through the activation sums).
static inline void unpack_q5(const uint8_t *g, __m256i u[8]) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i even = _mm256_set1_epi32(0x08040201), odd = _mm256_set1_epi32((int)0x80402010u);
    __m256i qh = _mm256_loadu_si256((const __m256i *)(g + 16));
    for (int v = 0; v < 4; v++) {
        __m256i raw = _mm256_loadu_si256((const __m256i *)(g + 48 + 32 * v));
        __m256i mask = v % 2 ? odd : even;
        u[v] = _mm256_or_si256(_mm256_and_si256(raw, m4), q5_high(qh, v, 0, mask));
        u[4 + v] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), q5_high(qh, v, 1, mask));
    }
}

/// `n` (1 ... 4, a constant after inlining) activations against interleaved group `g`: each
/// block's weights are unpacked once and dotted with every activation, whose float operations
/// and their order do not depend on `n`, so `out[t · stride + i]` equals `lem_dot_x8` of
/// activation t (the `n` = 1 case) bit for bit. Each lane runs the eight-row kernel's float
/// operations (dot4_avx2.c) in its order, so the copy gives the stored layout's results.
static inline __attribute__((always_inline)) void x8_multi(const lem_matrix *m, const uint8_t *g, const lem_act *acts,
                                                           const int n, float *out, size_t stride) {
    __m256 acc[4], off[4];
    for (int t = 0; t < n; t++) acc[t] = off[t] = _mm256_setzero_ps();
    int32_t blocks = m->cols / 32;
    __m256i u[8], aw[8];
    switch (m->format) {
    case LEM_FMT_Q4_0: case LEM_FMT_Q4_1: {
        int has_min = m->format == LEM_FMT_Q4_1, header = has_min ? 32 : 16;
        for (int32_t b = 0; b < blocks; b++, g += header + 128) {
            prefetch_ahead(g);
            if (n > 1) unpack_nibbles(g + header, u);
            __m256 dw = scales8(g, LEM_SCALE_F16), mn = has_min ? scales8(g + 16, LEM_SCALE_F16) : dw;
            for (int t = 0; t < n; t++) {
                const int8_t *q = acts[t].q + 32 * b;
                __m256 ints = _mm256_cvtepi32_ps(n > 1 ? unsigned_sums(u, q, 0) : nibble_sums(g + header, q));
                acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(acts[t].d[b])), ints, acc[t]);
                off[t] = _mm256_fmadd_ps(mn, _mm256_set1_ps(acts[t].s[b]), off[t]);
            }
        }
        for (int t = 0; t < n; t++) {
            __m256 v = has_min ? _mm256_add_ps(acc[t], off[t]) : _mm256_fnmadd_ps(_mm256_set1_ps(8), off[t], acc[t]);
            _mm256_storeu_ps(out + (size_t)t * stride, v);
        }
        return;
    }
    case LEM_FMT_Q5_0:
        for (int32_t b = 0; b < blocks; b++, g += 176) {
            prefetch_ahead(g);
            unpack_q5(g, u);
            __m256 dw = scales8(g, LEM_SCALE_F16);
            for (int t = 0; t < n; t++) {
                __m256 ints = _mm256_cvtepi32_ps(unsigned_sums(u, acts[t].q + 32 * b, 1));
                acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(acts[t].d[b])), ints, acc[t]);
                off[t] = _mm256_fmadd_ps(dw, _mm256_set1_ps(acts[t].s[b]), off[t]);
            }
        }
        for (int t = 0; t < n; t++) _mm256_storeu_ps(out + (size_t)t * stride, _mm256_fnmadd_ps(_mm256_set1_ps(16), off[t], acc[t]));
        return;
    case LEM_FMT_Q8_0:
        for (int32_t b = 0; b < blocks; b++, g += 272) {
            prefetch_ahead(g);
            prefetch_ahead(g + 128);
            for (int v = 0; v < 8; v++) {
                u[v] = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * v));
                aw[v] = _mm256_sign_epi8(u[v], u[v]);
            }
            __m256 dw = scales8(g, LEM_SCALE_F16);
            for (int t = 0; t < n; t++) {
                __m256 ints = _mm256_cvtepi32_ps(signed_sums(u, aw, acts[t].q + 32 * b));
                acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(acts[t].d[b])), ints, acc[t]);
            }
        }
        for (int t = 0; t < n; t++) _mm256_storeu_ps(out + (size_t)t * stride, acc[t]);
        return;
    default: {  // MLX 4-bit, against each activation's MLX-order copy
        int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
        int ss = lem_scale_size(m->scale_type);
        for (int32_t q = 0; q < groups; q++) {
            __m256 sc = scales8(g, m->scale_type), bias = scales8(g + 8 * ss, m->scale_type);
            g += 16 * ss;
            for (int32_t k = 0; k < per; k++, g += 128) {
                prefetch_ahead(g);
                int32_t b = q * per + k;
                if (n > 1) unpack_nibbles(g, u);
                for (int t = 0; t < n; t++) {
                    const int8_t *q = acts[t].q_mlx + 32 * b;
                    __m256 ints = _mm256_cvtepi32_ps(n > 1 ? unsigned_sums(u, q, 0) : nibble_sums(g, q));
                    acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(sc, _mm256_set1_ps(acts[t].d[b])), ints, acc[t]);
                    off[t] = _mm256_fmadd_ps(bias, _mm256_set1_ps(acts[t].s[b]), off[t]);
                }
            }
        }
        for (int t = 0; t < n; t++) _mm256_storeu_ps(out + (size_t)t * stride, _mm256_add_ps(acc[t], off[t]));
        return;
    }
    }
}

void LEM_K(lem_dot_x8_multi)(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out,
                             size_t stride) {
    const uint8_t *g = m->x8 + (size_t)group * 8 * lem_x8_row_bytes(m);
    for (; n >= 4; n -= 4, acts += 4, out += 4 * stride) x8_multi(m, g, acts, 4, out, stride);
    switch (n) {
    case 3: x8_multi(m, g, acts, 3, out, stride); break;
    case 2: x8_multi(m, g, acts, 2, out, stride); break;
    case 1: x8_multi(m, g, acts, 1, out, stride); break;
    default: break;
    }
}

void LEM_K(lem_dot_x8)(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]) {
    x8_multi(m, m->x8 + (size_t)group * 8 * lem_x8_row_bytes(m), a, 1, out, 8);
}
