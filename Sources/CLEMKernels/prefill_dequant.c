// Row dequantization for prefill tiles, written as loops the compiler vectorizes: each block's
// scale is hoisted and the inner loop over its elements has no branches or divisions. The same
// body is compiled twice — once with AVX2/F16C (used when cpuid says so) and once portable.
// Formats without a loop here fall back to `lem_dequantize_row` (matvec.c), which is also the
// oracle these are tested against.

#include "lem_internal.h"

/// Q4_K / Q5_K super-block of 256: 8 sub-blocks of 32 with 6-bit scales and mins.
static inline void deq_q45k(const uint8_t *p, int five, float *out) {
    float d = lem_f16(lem_u16(p)), dmin = lem_f16(lem_u16(p + 2));
    const uint8_t *qh = p + 16, *qs = p + (five ? 48 : 16);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, mn;
        lem_scale_min_k4(j, p + 4, &sc, &mn);
        float d1 = d * (float)sc, m1 = dmin * (float)mn;
        const uint8_t *q = qs + (j / 2) * 32;
        float *o = out + 32 * j;
        if (j % 2 == 0) {
            for (int l = 0; l < 32; l++) o[l] = d1 * (float)(q[l] & 0x0F) - m1;
        } else {
            for (int l = 0; l < 32; l++) o[l] = d1 * (float)(q[l] >> 4) - m1;
        }
        if (five) {
            float add = d1 * 16;
            for (int l = 0; l < 32; l++) o[l] += (float)((qh[l] >> j) & 1) * add;
        }
    }
}

/// Q6_K super-block of 256: two halves of 128, each element 4 low bits + 2 high bits − 32, one
/// signed 8-bit scale per 16.
static inline void deq_q6k(const uint8_t *p, float *out) {
    float d = lem_f16(lem_u16(p + 208));
    const int8_t *sc = (const int8_t *)(p + 192);
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = p + 64 * half, *qh = p + 128 + 32 * half;
        float *o = out + 128 * half;
        const int8_t *s = sc + 8 * half;
        for (int g = 0; g < 2; g++) {  // l in [16g, 16g + 16): scale index 2·quarter + g
            float d0 = d * s[g], d1 = d * s[g + 2], d2 = d * s[g + 4], d3 = d * s[g + 6];
            for (int l = 16 * g; l < 16 * g + 16; l++) {
                o[l] = d0 * (float)((int)((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32);
                o[l + 32] = d1 * (float)((int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = d2 * (float)((int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = d3 * (float)((int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
    }
}

/// Q5_0 / Q5_1 block of 32: 4 low bits, the 5th from a 32-bit mask.
static inline void deq_q5(const uint8_t *p, int has_min, float *out) {
    float d = lem_f16(lem_u16(p)), mn = has_min ? lem_f16(lem_u16(p + 2)) : -16 * d;
    uint32_t qh;
    memcpy(&qh, p + (has_min ? 4 : 2), 4);
    const uint8_t *qs = p + (has_min ? 8 : 6);
    for (int j = 0; j < 16; j++) {
        out[j] = d * (float)((qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) + mn;
        out[j + 16] = d * (float)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) + mn;
    }
}

/// MLX affine row: `scale · q + bias` per group, scales and biases converted once per group.
static inline void deq_mlx(const lem_matrix *m, int32_t stored, const uint8_t *row, float *out) {
    int32_t n = m->cols, gs = m->group_size, groups = n / gs;
    size_t ss = (size_t)lem_scale_size(m->scale_type);
    const uint8_t *sp = m->scales + (size_t)stored * groups * ss, *bp = m->biases + (size_t)stored * groups * ss;
    for (int32_t g = 0; g < groups; g++) {
        float s = lem_scale_at(sp, m->scale_type, g), b = lem_scale_at(bp, m->scale_type, g);
        float *o = out + (size_t)g * gs;
        if (m->format == LEM_FMT_MLX4) {
            const uint8_t *q = row + (size_t)g * gs / 2;
            for (int32_t i = 0; i < gs / 2; i++) {
                o[2 * i] = s * (float)(q[i] & 0x0F) + b;
                o[2 * i + 1] = s * (float)(q[i] >> 4) + b;
            }
        } else {
            const uint8_t *q = row + (size_t)g * gs;
            for (int32_t i = 0; i < gs; i++) o[i] = s * (float)q[i] + b;
        }
    }
}

/// The shared body; returns 0 when the format has no loop here.
static inline int deq_row(const lem_matrix *m, int32_t r, float *out) {
    int32_t stored = lem_stored_row(m, r);
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    int32_t n = m->cols;
    switch (m->format) {
    case LEM_FMT_Q4_K: case LEM_FMT_Q5_K: {
        int five = m->format == LEM_FMT_Q5_K;
        for (int32_t b = 0; b < n / 256; b++) deq_q45k(row + (size_t)b * (five ? 176 : 144), five, out + 256 * b);
        return 1;
    }
    case LEM_FMT_Q6_K:
        for (int32_t b = 0; b < n / 256; b++) deq_q6k(row + (size_t)b * 210, out + 256 * b);
        return 1;
    case LEM_FMT_Q5_0: case LEM_FMT_Q5_1: {
        int has_min = m->format == LEM_FMT_Q5_1;
        for (int32_t b = 0; b < n / 32; b++) deq_q5(row + (size_t)b * (has_min ? 24 : 22), has_min, out + 32 * b);
        return 1;
    }
    case LEM_FMT_MLX4: case LEM_FMT_MLX8:
        deq_mlx(m, stored, row, out);
        return 1;
    default:
        return 0;
    }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

/// Q5_0 / Q5_1 block with explicit AVX2: nibbles and the 5th bits as 32 bytes, then 4 × 8 floats.
static inline void deq_q5_avx2(const uint8_t *p, int has_min, float *out) {
    float d = lem_f16(lem_u16(p)), mn = has_min ? lem_f16(lem_u16(p + 2)) : -16 * d;
    uint32_t bits;
    memcpy(&bits, p + (has_min ? 4 : 2), 4);
    __m128i raw = _mm_loadu_si128((const __m128i *)(p + (has_min ? 8 : 6)));
    __m256i nib = _mm256_and_si256(
        _mm256_inserti128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1), _mm256_set1_epi8(0x0F));
    const __m256i pick = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);
    __m256i hb = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    hb = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, mask), mask), _mm256_set1_epi8(0x10));
    __m256i q = _mm256_or_si256(nib, hb);
    __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(mn);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(out, _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), vm));
    _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), vm));
    _mm256_storeu_ps(out + 16, _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), vm));
    _mm256_storeu_ps(out + 24, _mm256_fmadd_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), vm));
}

static int deq_row_avx2(const lem_matrix *m, int32_t r, float *out) {
    if (m->format == LEM_FMT_Q5_0 || m->format == LEM_FMT_Q5_1) {
        int has_min = m->format == LEM_FMT_Q5_1;
        const uint8_t *row = m->base + (size_t)lem_stored_row(m, r) * m->row_bytes;
        for (int32_t b = 0; b < m->cols / 32; b++) deq_q5_avx2(row + (size_t)b * (has_min ? 24 : 22), has_min, out + 32 * b);
        return 1;
    }
    return deq_row(m, r, out);
}

#pragma clang attribute pop
#else
static int deq_row_avx2(const lem_matrix *m, int32_t r, float *out) { return deq_row(m, r, out); }
#endif

void lem_dequantize_row_tile(const lem_matrix *m, int32_t r, float *out, int simd) {
    if (m->x8 && r < m->x8_rows) {
        // An interleaved matrix: rebuild the stored row from the copy (the original pages may
        // have been released) and decode that.
        uint8_t tmp[LEM_X8_VIEW_BYTES];
        lem_matrix view;
        if (lem_x8_row_view(m, r, tmp, sizeof tmp, &view)) {
            lem_dequantize_row_tile(&view, 0, out, simd);
            return;
        }
    }
    int done = simd ? deq_row_avx2(m, r, out) : deq_row(m, r, out);
    if (!done) lem_dequantize_row(m, r, out);
}
