#ifndef LEM_AVX2_H
#define LEM_AVX2_H
// AVX2 helpers shared by the kernel files, for functions compiled with the AVX2 + FMA target to
// inline (include after `#pragma clang attribute push(... target("avx2,fma...") ...)`).
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/// 16 packed bytes → 32 nibbles, GGUF order: byte j holds element j (low) and j + 16 (high).
static inline __m256i lem_nibbles_gguf(const uint8_t *p) {
    __m128i raw = _mm_loadu_si128((const __m128i *)p);
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/// The 32 bits at `p` as 32 bytes, 0x10 where the bit is set (Q5 high bits).
static inline __m256i lem_bits_to_0x10(const uint8_t *p) {
    uint32_t bits;
    memcpy(&bits, p, 4);
    const __m256i pick = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, mask), mask);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/// Eight vectors of eight i32 partial sums reduced to one exact sum each (vector order), as
/// floats: lane i = Σ p[i].
static inline __m256 lem_sum8_i32(const __m256i p[8]) {
    __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    __m256i s = _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
    return _mm256_cvtepi32_ps(s);
}

/// The sum of eight floats: halves, then pairs, then the last two.
static inline float lem_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// a · b over n floats: sixteen at a time on two accumulators, then eight, then the tail.
static inline float lem_dot_f32_inline(const float *a, const float *b, int32_t n) {
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
    int32_t k = 0;
    for (; k + 16 <= n; k += 16) {
        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), c0);
        c1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), c1);
    }
    for (; k + 8 <= n; k += 8) c0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), c0);
    float s = lem_hsum8(_mm256_add_ps(c0, c1));
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

#endif
