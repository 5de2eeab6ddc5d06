// Four-row AVX2 dots for decode: four weight rows against one 8-bit activation at a time.
//
// The single-row kernels (dot_avx2.c) spend most of a block outside the integer dot: an f16
// scale converted alone, a float conversion, a broadcast and an FMA per row. Here each block's
// four integer dots are reduced with two `hadd`s into one vector of four exact i32 sums, and the
// four rows' scales, minimums and offsets are handled as one 4-lane vector. Block integer sums are
// exact, and each lane does the same float operations in the same order whichever rows share the
// call, so a row's result does not depend on how rows are grouped (pooled == serial, bit for bit).

#include "lem_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#include "lem_avx2.h"

/// 16 packed bytes → 32 nibbles, MLX order: byte j holds elements 2j (low) and 2j + 1 (high).
static inline __m256i nib_mlx(const uint8_t *p) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m128i raw = _mm_loadu_si128((const __m128i *)p);
    __m128i lo = _mm_and_si128(raw, m4), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m4);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi8(lo, hi)), _mm_unpackhi_epi8(lo, hi), 1);
}

/// u8 × i8 over 32 lanes → 8 i32 partial sums.
static inline __m256i mad_u8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/// i8 × i8 over 32 lanes → 8 i32 partial sums (sign moved onto the activation).
static inline __m256i mad_i8(__m256i w, __m256i q) {
    return mad_u8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w));
}

/// The four rows' 8-lane partial sums reduced to one exact i32 each, as floats.
static inline __m128 sum4(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
    return _mm_cvtepi32_ps(_mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

static inline __m256i load_q(const lem_act *a, int32_t b) {
    return _mm256_loadu_si256((const __m256i *)(a->q + 32 * b));
}

/// The f16 at `p[i] + off` for eight rows.
static inline __m256 f16x8(const uint8_t *const p[8], size_t off) {
    __m128i v = _mm_setr_epi16(
        (short)lem_u16(p[0] + off), (short)lem_u16(p[1] + off), (short)lem_u16(p[2] + off), (short)lem_u16(p[3] + off),
        (short)lem_u16(p[4] + off), (short)lem_u16(p[5] + off), (short)lem_u16(p[6] + off), (short)lem_u16(p[7] + off));
    return _mm256_cvtph_ps(v);
}

/// The next eight rows' bytes, fetched a slice per block: eight interleaved row streams defeat the
/// hardware prefetcher on DRAM-resident matrices (measured: 35 % slower than one row at a time on a
/// 44 MB Q8_0 matrix, 20 % faster when it sits in cache), so the kernel streams the next group
/// itself. `pf` is the byte after this group's last row (rows are stored in order), `lines` the
/// 64-byte lines to touch per block.
typedef struct {
    const char *pf;
    int32_t lines;
} prefetch8;

static inline void prefetch_next(prefetch8 f, int32_t b) {
    const char *p = f.pf + (size_t)64 * f.lines * b;
    for (int32_t i = 0; i < f.lines; i++) _mm_prefetch(p + 64 * i, _MM_HINT_T0);
}

/// Eight-row Q4_0 / Q4_1 / Q5_0 / Q5_1 (see `dot4_legacy`).
static inline __m256 dot8_legacy(const uint8_t *const r[8], const lem_act *a, int bytes, int qs, int qh, int has_min, float zero, prefetch8 f) {
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    for (int32_t b = 0; b < a->cols / 32; b++) {
        prefetch_next(f, b);
        const uint8_t *p[8];
        for (int i = 0; i < 8; i++) p[i] = r[i] + bytes * b;
        __m256i q = load_q(a, b);
        __m256i d[8];
        for (int i = 0; i < 8; i++) {
            __m256i w = lem_nibbles_gguf(p[i] + qs);
            if (qh) w = _mm256_or_si256(w, lem_bits_to_0x10(p[i] + qh));
            d[i] = mad_u8(w, q);
        }
        __m256 ints = lem_sum8_i32(d);
        __m256 dw = f16x8(p, 0);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d[b])), ints, acc);
        off = _mm256_fmadd_ps(has_min ? f16x8(p, 2) : dw, _mm256_set1_ps(a->s[b]), off);
    }
    return has_min ? _mm256_add_ps(acc, off) : _mm256_fnmadd_ps(_mm256_set1_ps(zero), off, acc);
}

static inline __m256 dot8_q8_0(const uint8_t *const r[8], const lem_act *a, prefetch8 f) {
    __m256 acc = _mm256_setzero_ps();
    for (int32_t b = 0; b < a->cols / 32; b++) {
        prefetch_next(f, b);
        const uint8_t *p[8];
        for (int i = 0; i < 8; i++) p[i] = r[i] + 34 * b;
        __m256i q = load_q(a, b);
        __m256i d[8];
        for (int i = 0; i < 8; i++) d[i] = mad_i8(_mm256_loadu_si256((const __m256i *)(p[i] + 2)), q);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(f16x8(p, 0), _mm256_set1_ps(a->d[b])), lem_sum8_i32(d), acc);
    }
    return acc;
}

/// Eight rows' MLX scales (or biases) of group `g` from the row starts `s[i]`.
static inline __m256 mlx8_scales(const uint8_t *const s[8], int32_t type, int32_t g) {
    if (type == LEM_SCALE_F32) {
        return _mm256_setr_ps(
            lem_scale_at(s[0], type, g), lem_scale_at(s[1], type, g), lem_scale_at(s[2], type, g), lem_scale_at(s[3], type, g),
            lem_scale_at(s[4], type, g), lem_scale_at(s[5], type, g), lem_scale_at(s[6], type, g), lem_scale_at(s[7], type, g));
    }
    const uint8_t *p[8];
    for (int i = 0; i < 8; i++) p[i] = s[i] + 2 * g;
    if (type == LEM_SCALE_F16) return f16x8(p, 0);
    __m128i v = _mm_setr_epi16(
        (short)lem_u16(p[0]), (short)lem_u16(p[1]), (short)lem_u16(p[2]), (short)lem_u16(p[3]),
        (short)lem_u16(p[4]), (short)lem_u16(p[5]), (short)lem_u16(p[6]), (short)lem_u16(p[7]));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));  // bf16 → f32
}

static inline __m256 dot8_mlx4(const lem_matrix *m, const uint8_t *const r[8], const int32_t stored[8], const lem_act *a, prefetch8 f) {
    int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
    size_t gs = (size_t)groups * (size_t)lem_scale_size(m->scale_type);
    const uint8_t *sp[8], *bp[8];
    for (int i = 0; i < 8; i++) {
        sp[i] = m->scales + (size_t)stored[i] * gs;
        bp[i] = m->biases + (size_t)stored[i] * gs;
    }
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    for (int32_t g = 0; g < groups; g++) {
        __m256 sc = mlx8_scales(sp, m->scale_type, g), bias = mlx8_scales(bp, m->scale_type, g);
        for (int32_t k = 0; k < per; k++) {
            int32_t b = g * per + k;
            prefetch_next(f, b);
            __m256i q = load_q(a, b);
            __m256i d[8];
            if (a->q_mlx) {
                // Low nibbles are the even elements, high the odd: split GGUF-style against
                // the activation in that order (exact integer sums, same result).
                __m256i qm = _mm256_loadu_si256((const __m256i *)(a->q_mlx + 32 * b));
                for (int i = 0; i < 8; i++) d[i] = mad_u8(lem_nibbles_gguf(r[i] + 16 * b), qm);
            } else {
                for (int i = 0; i < 8; i++) d[i] = mad_u8(nib_mlx(r[i] + 16 * b), q);
            }
            acc = _mm256_fmadd_ps(_mm256_mul_ps(sc, _mm256_set1_ps(a->d[b])), lem_sum8_i32(d), acc);
            off = _mm256_fmadd_ps(bias, _mm256_set1_ps(a->s[b]), off);
        }
    }
    return _mm256_add_ps(acc, off);
}

/// The f16 at `p[i] + off` for the four rows.
static inline __m128 f16x4(const uint8_t *const p[4], size_t off) {
    __m128i v = _mm_setr_epi16(
        (short)lem_u16(p[0] + off), (short)lem_u16(p[1] + off), (short)lem_u16(p[2] + off), (short)lem_u16(p[3] + off),
        0, 0, 0, 0);
    return _mm_cvtph_ps(v);
}

/// Q4_0 / Q4_1 / Q5_0 / Q5_1: `bytes` per block, weights at `qs`, high bits at `qh` (Q5),
/// minimum at byte 2 (`_1` formats) or the fixed offset `-zero · d`.
static inline __m128 dot4_legacy(const uint8_t *const r[4], const lem_act *a, int bytes, int qs, int qh, int has_min, float zero) {
    __m128 acc = _mm_setzero_ps(), off = _mm_setzero_ps();
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p[4] = {r[0] + bytes * b, r[1] + bytes * b, r[2] + bytes * b, r[3] + bytes * b};
        __m256i q = load_q(a, b);
        __m256i w0 = lem_nibbles_gguf(p[0] + qs), w1 = lem_nibbles_gguf(p[1] + qs), w2 = lem_nibbles_gguf(p[2] + qs), w3 = lem_nibbles_gguf(p[3] + qs);
        if (qh) {
            w0 = _mm256_or_si256(w0, lem_bits_to_0x10(p[0] + qh));
            w1 = _mm256_or_si256(w1, lem_bits_to_0x10(p[1] + qh));
            w2 = _mm256_or_si256(w2, lem_bits_to_0x10(p[2] + qh));
            w3 = _mm256_or_si256(w3, lem_bits_to_0x10(p[3] + qh));
        }
        __m128 ints = sum4(mad_u8(w0, q), mad_u8(w1, q), mad_u8(w2, q), mad_u8(w3, q));
        __m128 dw = f16x4(p, 0);
        acc = _mm_fmadd_ps(_mm_mul_ps(dw, _mm_set1_ps(a->d[b])), ints, acc);
        off = _mm_fmadd_ps(has_min ? f16x4(p, 2) : dw, _mm_set1_ps(a->s[b]), off);
    }
    return has_min ? _mm_add_ps(acc, off) : _mm_fnmadd_ps(_mm_set1_ps(zero), off, acc);
}

static inline __m128 dot4_q8_0(const uint8_t *const r[4], const lem_act *a) {
    __m128 acc = _mm_setzero_ps();
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p[4] = {r[0] + 34 * b, r[1] + 34 * b, r[2] + 34 * b, r[3] + 34 * b};
        __m256i q = load_q(a, b);
        __m128 ints = sum4(
            mad_i8(_mm256_loadu_si256((const __m256i *)(p[0] + 2)), q),
            mad_i8(_mm256_loadu_si256((const __m256i *)(p[1] + 2)), q),
            mad_i8(_mm256_loadu_si256((const __m256i *)(p[2] + 2)), q),
            mad_i8(_mm256_loadu_si256((const __m256i *)(p[3] + 2)), q));
        acc = _mm_fmadd_ps(_mm_mul_ps(f16x4(p, 0), _mm_set1_ps(a->d[b])), ints, acc);
    }
    return acc;
}

/// Four rows' MLX scales (or biases) of group `g`.
static inline __m128 mlx4_scales(const uint8_t *const s[4], int32_t type, int32_t g) {
    if (type == LEM_SCALE_F16) {
        const uint8_t *p[4] = {s[0] + 2 * g, s[1] + 2 * g, s[2] + 2 * g, s[3] + 2 * g};
        return f16x4(p, 0);
    }
    return _mm_setr_ps(lem_scale_at(s[0], type, g), lem_scale_at(s[1], type, g), lem_scale_at(s[2], type, g), lem_scale_at(s[3], type, g));
}

static inline __m128 dot4_mlx4(const lem_matrix *m, const uint8_t *const r[4], const int32_t stored[4], const lem_act *a) {
    int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
    size_t gs = (size_t)groups * (size_t)lem_scale_size(m->scale_type);
    const uint8_t *sp[4], *bp[4];
    for (int i = 0; i < 4; i++) {
        sp[i] = m->scales + (size_t)stored[i] * gs;
        bp[i] = m->biases + (size_t)stored[i] * gs;
    }
    __m128 acc = _mm_setzero_ps(), off = _mm_setzero_ps();
    for (int32_t g = 0; g < groups; g++) {
        __m128 sc = mlx4_scales(sp, m->scale_type, g), bias = mlx4_scales(bp, m->scale_type, g);
        for (int32_t k = 0; k < per; k++) {
            int32_t b = g * per + k;
            __m256i q = load_q(a, b);
            __m128 ints = sum4(
                mad_u8(nib_mlx(r[0] + 16 * b), q), mad_u8(nib_mlx(r[1] + 16 * b), q),
                mad_u8(nib_mlx(r[2] + 16 * b), q), mad_u8(nib_mlx(r[3] + 16 * b), q));
            acc = _mm_fmadd_ps(_mm_mul_ps(sc, _mm_set1_ps(a->d[b])), ints, acc);
            off = _mm_fmadd_ps(bias, _mm_set1_ps(a->s[b]), off);
        }
    }
    return _mm_add_ps(acc, off);
}

void lem_act_mlx_order(const int8_t *q, int8_t *out, int32_t cols) {
    const __m256i split = _mm256_setr_epi8(
        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    for (int32_t b = 0; b < cols / 32; b++) {
        __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(q + 32 * b)), split);
        // [e0..7 o0..7 | e8..15 o8..15] → [e0..15 | o0..15]
        _mm256_storeu_si256((__m256i *)(out + 32 * b), _mm256_permute4x64_epi64(v, 0xD8));
    }
}

int lem_dot4_supported(int32_t format) {
    switch (format) {
    case LEM_FMT_Q4_0: case LEM_FMT_Q4_1: case LEM_FMT_Q5_0: case LEM_FMT_Q5_1: case LEM_FMT_Q8_0: case LEM_FMT_MLX4:
        return 1;
    default: return 0;
    }
}

void lem_dot_rows8_avx2(const lem_matrix *m, const int32_t stored[8], const lem_act *a, float out[8]) {
    const uint8_t *r[8];
    for (int i = 0; i < 8; i++) r[i] = m->base + (size_t)stored[i] * m->row_bytes;
    // The next group's rows, when this group's rows are contiguous and a next group exists. The
    // last slice may run up to a line per block past that group (harmless: a prefetch never
    // faults and reads nothing into the result).
    int32_t blocks = a->cols / 32, next = stored[7] + 1;
    prefetch8 f = {(const char *)(m->base + (size_t)next * m->row_bytes), 0};
    if (stored[7] - stored[0] == 7 && next + 8 <= m->rows) f.lines = (int32_t)((8 * m->row_bytes / 64 + blocks - 1) / blocks);
    __m256 v;
    switch (m->format) {
    case LEM_FMT_Q4_0: v = dot8_legacy(r, a, 18, 2, 0, 0, 8, f); break;
    case LEM_FMT_Q4_1: v = dot8_legacy(r, a, 20, 4, 0, 1, 0, f); break;
    case LEM_FMT_Q5_0: v = dot8_legacy(r, a, 22, 6, 2, 0, 16, f); break;
    case LEM_FMT_Q5_1: v = dot8_legacy(r, a, 24, 8, 4, 1, 0, f); break;
    case LEM_FMT_Q8_0: v = dot8_q8_0(r, a, f); break;
    default: v = dot8_mlx4(m, r, stored, a, f); break;
    }
    _mm256_storeu_ps(out, v);
}

void lem_dot_rows4_avx2(const lem_matrix *m, const int32_t stored[4], const lem_act *a, float out[4]) {
    const uint8_t *r[4];
    for (int i = 0; i < 4; i++) r[i] = m->base + (size_t)stored[i] * m->row_bytes;
    __m128 v;
    switch (m->format) {
    case LEM_FMT_Q4_0: v = dot4_legacy(r, a, 18, 2, 0, 0, 8); break;
    case LEM_FMT_Q4_1: v = dot4_legacy(r, a, 20, 4, 0, 1, 0); break;
    case LEM_FMT_Q5_0: v = dot4_legacy(r, a, 22, 6, 2, 0, 16); break;
    case LEM_FMT_Q5_1: v = dot4_legacy(r, a, 24, 8, 4, 1, 0); break;
    case LEM_FMT_Q8_0: v = dot4_q8_0(r, a); break;
    default: v = dot4_mlx4(m, r, stored, a); break;
    }
    _mm_storeu_ps(out, v);
}

#pragma clang attribute pop

#else

void lem_act_mlx_order(const int8_t *q, int8_t *out, int32_t cols) {
    for (int32_t b = 0; b < cols / 32; b++) {
        for (int i = 0; i < 16; i++) {
            out[32 * b + i] = q[32 * b + 2 * i];
            out[32 * b + 16 + i] = q[32 * b + 2 * i + 1];
        }
    }
}

void lem_dot_rows8_avx2(const lem_matrix *m, const int32_t stored[8], const lem_act *a, float out[8]) {
    for (int i = 0; i < 8; i++) out[i] = lem_dot_row_scalar(m, stored[i], a);
}

int lem_dot4_supported(int32_t format) {
    (void)format;
    return 0;
}

void lem_dot_rows4_avx2(const lem_matrix *m, const int32_t stored[4], const lem_act *a, float out[4]) {
    for (int i = 0; i < 4; i++) out[i] = lem_dot_row_scalar(m, stored[i], a);
}

#endif
