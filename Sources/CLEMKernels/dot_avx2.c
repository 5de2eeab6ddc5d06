// AVX2 + FMA + F16C bodies of the row dots and the activation quantizer, compiled for those
// extensions with a function attribute (no package-wide flags) and only called after cpuid said
// the CPU has them. Each 32-element block: unpack the weights to bytes, `maddubs` (u8 × i8 → i16
// pairs), `madd` with ones (→ 8 × i32), convert and FMA into a float accumulator with the block's
// combined scale; offsets and minimums go through the activation block sums `a->s`.

#include "lem_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#include "lem_avx2.h"

#define LEM_VNNI 0
#define LEM_K(name) name##_avx2
#include "dot_row_body.h"
#undef LEM_K
#undef LEM_VNNI

float lem_dot_f32_avx2(const float *a, const float *b, int32_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    float sum = lem_hsum8(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

void lem_quantize_act_avx2(lem_act *a) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const float *x = a->x + 32 * b;
        __m256 v[4];
        __m256 mx = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[k]));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float d = amax / 127.0f;
        float id = d != 0 ? 127.0f / amax : 0.0f;
        __m256 ids = _mm256_set1_ps(id);
        __m256i iv[4];
        __m256i isum = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++) {
            __m256 r = _mm256_round_ps(_mm256_mul_ps(v[k], ids), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            iv[k] = _mm256_cvtps_epi32(r);
            isum = _mm256_add_epi32(isum, iv[k]);
        }
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(iv[0], iv[1]), _mm256_packs_epi32(iv[2], iv[3]));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(a->q + 32 * b), p);
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(isum), _mm256_extracti128_si256(isum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        a->d[b] = d;
        a->s[b] = d * (float)_mm_cvtsi128_si32(s4);
    }
}

#pragma clang attribute pop

int lem_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

#else

float lem_dot_row_avx2(const lem_matrix *m, int32_t stored, const lem_act *a) { return lem_dot_row_scalar(m, stored, a); }
void lem_dot_row_multi_avx2(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out,
                            size_t stride) {
    for (int32_t t = 0; t < n; t++) out[(size_t)t * stride] = lem_dot_row_scalar(m, stored, &acts[t]);
}
float lem_dot_f32_avx2(const float *a, const float *b, int32_t n) {
    float s = 0;
    for (int32_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
void lem_quantize_act_avx2(lem_act *a) { lem_quantize_act_scalar(a); }
int lem_cpu_has_avx2(void) { return 0; }

#endif
