// Causal attention over a KV cache (issue 4, session 5): one query row, up to four rows of a
// head together (a chunk), or one token's heads over a share of the cache (the decode split).
//
// The Swift loop this replaces compiled to 128-bit SSE without FMA (Swift code here is built
// for baseline x86-64; only these C files carry AVX2 `target` attributes, chosen by cpuid), and
// was a third of SmolLM2's decode time at a 600-token context. Same arithmetic as
// `Kernels.attentionNaive`: masked slots score −∞ and are skipped, max-subtracted `expf`, the
// normalised weights accumulate the value rows in slot order. A head's sink logit (GPT-OSS; −∞
// for none, which changes no bit) joins the maximum and the denominator only.
//
// The cache's slots come as runs (`lem_kv_run`): one for a cache's own ring, two when a prefix
// is shared in place with other caches (its rows, then the cache's own). Slot s of a call is the
// s-th slot of the runs taken in order; every body loops over the runs, so the arithmetic and
// its order are the same however the slots are split.

#include "lem_internal.h"
#include <math.h>

#if defined(__x86_64__) || defined(_M_X64)
#define HAS_AVX2_BODIES 1
#else
#define HAS_AVX2_BODIES 0
#endif

/// Whether slot `s` (at position `kp`) is visible from position `p`.
static inline int visible(intptr_t kp, intptr_t p, intptr_t window) {
    return kp >= 0 && kp <= p && !(window > 0 && kp <= p - window);
}

/// Slots in all the runs.
static inline int32_t lem_kv_slots(const lem_kv_run *runs, int32_t nruns) {
    int32_t n = 0;
    for (int32_t i = 0; i < nruns; i++) n += runs[i].slots;
    return n;
}

static inline float dot_scalar(const float *a, const float *b, int32_t n) {
    float s = 0;
    for (int32_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static inline void axpy_scalar(float w, const float *x, float *y, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] += w * x[i];
}

/// Loops its body (the arguments) over the slots of the runs: `s` counts across them, `k`/`v` are the slot's rows.
#define FOR_SLOTS(...)                                                              \
    {                                                                               \
        int32_t s = 0;                                                              \
        for (int32_t run_i = 0; run_i < nruns; run_i++) {                           \
            const lem_kv_run *run = runs + run_i;                                   \
            for (int32_t j = 0; j < run->slots; j++, s++) {                         \
                const intptr_t kp = run->pos[j];                                    \
                const float *k = run->keys + off + (size_t)j * stride;              \
                const float *v = run->values + off + (size_t)j * stride;            \
                (void)k;                                                            \
                (void)v;                                                            \
                (void)kp;                                                           \
                __VA_ARGS__                                                         \
            }                                                                       \
        }                                                                           \
    }

/// The row's scores (−∞ where masked); returns their maximum.
#define SCORE_PASS(DOT)                                                             \
    float max_score = -INFINITY;                                                    \
    FOR_SLOTS({                                                                     \
        if (!visible(kp, pos, window)) {                                            \
            scores[s] = -INFINITY;                                                  \
            continue;                                                               \
        }                                                                           \
        float score = DOT(q, k, d) * scale;                                         \
        if (softcap > 0) score = tanhf(score / softcap) * softcap;                  \
        scores[s] = score;                                                          \
        if (score > max_score) max_score = score;                                   \
    })

/// Exponentials, their sum, and the weighted value rows into `out`.
#define VALUE_PASS(AXPY)                                                            \
    for (int32_t i = 0; i < d; i++) out[i] = 0;                                     \
    if (max_score == -INFINITY) return;                                             \
    int32_t slots = lem_kv_slots(runs, nruns);                                      \
    float top = sink > max_score ? sink : max_score;                                \
    float sum = 0;                                                                  \
    for (int32_t s = 0; s < slots; s++) {                                           \
        if (scores[s] == -INFINITY) continue;                                       \
        float e = expf(scores[s] - top);                                            \
        scores[s] = e;                                                              \
        sum += e;                                                                   \
    }                                                                               \
    sum += expf(sink - top);                                                        \
    float inv = 1 / sum;                                                            \
    FOR_SLOTS({                                                                     \
        if (scores[s] == -INFINITY) continue;                                       \
        AXPY(scores[s] * inv, v, out, d);                                           \
    })

#define ATTEND_PARAMS                                                                                         \
    const float *q, const lem_kv_run *runs, int32_t nruns, size_t off, size_t stride, int32_t d, intptr_t pos, \
        intptr_t window, float scale, float softcap, float sink, float *scores, float *out

/// Slots [s0, s1) for the `group` query heads at `q` (group × d) that share one KV head: per head
/// g, m[g] = the largest visible score (−∞: none), l[g] = Σ e^{score − m[g]} and out[g] = that
/// weighted sum of value rows, unnormalised. Scores go to `scores` (group × (s1 − s0)). Each key
/// and value row is read once for the whole group.
#define PARTIAL_BODY(DOT, AXPY)                                                                  \
    int32_t n = s1 - s0;                                                                          \
    for (int32_t g = 0; g < group; g++) m[g] = -INFINITY;                                         \
    FOR_SLOTS({                                                                                   \
        if (s < s0 || s >= s1) continue;                                                          \
        int seen = visible(kp, pos, window);                                                      \
        for (int32_t g = 0; g < group; g++) {                                                     \
            float score = -INFINITY;                                                              \
            if (seen) {                                                                           \
                score = DOT(q + (size_t)g * d, k, d) * scale;                                     \
                if (softcap > 0) score = tanhf(score / softcap) * softcap;                        \
                if (score > m[g]) m[g] = score;                                                   \
            }                                                                                     \
            scores[(size_t)g * n + (s - s0)] = score;                                             \
        }                                                                                         \
    })                                                                                            \
    for (int32_t i = 0; i < group * d; i++) out[i] = 0;                                           \
    for (int32_t g = 0; g < group; g++) {                                                         \
        l[g] = 0;                                                                                 \
        if (m[g] == -INFINITY) continue;                                                          \
        float *row = scores + (size_t)g * n;                                                      \
        for (int32_t j = 0; j < n; j++) {                                                         \
            if (row[j] == -INFINITY) continue;                                                    \
            row[j] = expf(row[j] - m[g]);                                                         \
            l[g] += row[j];                                                                       \
        }                                                                                         \
    }                                                                                             \
    FOR_SLOTS({                                                                                   \
        if (s < s0 || s >= s1) continue;                                                          \
        for (int32_t g = 0; g < group; g++) {                                                     \
            float w = scores[(size_t)g * n + (s - s0)];                                           \
            if (m[g] == -INFINITY || w == -INFINITY) continue;                                    \
            AXPY(w, v, out + (size_t)g * d, d);                                                   \
        }                                                                                         \
    })

#define PARTIAL_PARAMS                                                                                             \
    const float *q, int32_t group, const lem_kv_run *runs, int32_t nruns, size_t off, size_t stride, int32_t s0,   \
        int32_t s1, int32_t d, intptr_t pos, intptr_t window, float scale, float softcap, float *scores, float *out, \
        float *m, float *l

#define ROWS4_PARAMS                                                                                             \
    const float *q, size_t qstride, int32_t n, const intptr_t *pos, const lem_kv_run *runs, int32_t nruns,      \
        size_t off, size_t stride, int32_t d, intptr_t window, float scale, float softcap, float sink,           \
        float *scores, float *out, size_t ostride

static void partial_scalar(PARTIAL_PARAMS) { PARTIAL_BODY(dot_scalar, axpy_scalar) }

static void attend_scalar(ATTEND_PARAMS) {
    SCORE_PASS(dot_scalar)
    VALUE_PASS(axpy_scalar)
}

#if HAS_AVX2_BODIES
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

#include "lem_avx2.h"

static inline void axpy_avx2(float w, const float *x, float *y, int32_t n) {
    __m256 vw = _mm256_set1_ps(w);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vw, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += w * x[i];
}

static void partial_avx2(PARTIAL_PARAMS) { PARTIAL_BODY(lem_dot_f32_inline, axpy_avx2) }

/// The whole row in one AVX2 function, so the dot products and value updates inline.
static void attend_avx2(ATTEND_PARAMS) {
    SCORE_PASS(lem_dot_f32_inline)
    VALUE_PASS(axpy_avx2)
}


/// Up to four query rows of one head against the cache, each key and value row loaded once for
/// all of them. Per row the arithmetic (and its order) is `attend_avx2`'s: the dot products
/// accumulate as `lem_dot_f32_inline` does, the value rows are added in slot order.
static void rows4_avx2(ROWS4_PARAMS) {
    int32_t slots = lem_kv_slots(runs, nruns);
    const float *qr[4];
    float mx[4], *sr[4];
    for (int r = 0; r < 4; r++) {
        qr[r] = q + (size_t)(r < n ? r : 0) * qstride;  // spare lanes repeat row 0, ignored
        sr[r] = scores + (size_t)r * (size_t)slots;
        mx[r] = -INFINITY;
    }
    FOR_SLOTS({
        int vis[4], any = 0;
        for (int r = 0; r < 4; r++) {
            vis[r] = r < n && visible(kp, pos[r < n ? r : 0], window);
            any |= vis[r];
        }
        if (!any) {
            for (int r = 0; r < n; r++) sr[r][s] = -INFINITY;
            continue;
        }
        __m256 c0[4], c1[4];
        for (int r = 0; r < 4; r++) c0[r] = c1[r] = _mm256_setzero_ps();
        int32_t i = 0;
        for (; i + 16 <= d; i += 16) {
            __m256 k0 = _mm256_loadu_ps(k + i), k1 = _mm256_loadu_ps(k + i + 8);
            for (int r = 0; r < 4; r++) {
                c0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(qr[r] + i), k0, c0[r]);
                c1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(qr[r] + i + 8), k1, c1[r]);
            }
        }
        for (; i + 8 <= d; i += 8) {
            __m256 k0 = _mm256_loadu_ps(k + i);
            for (int r = 0; r < 4; r++) c0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(qr[r] + i), k0, c0[r]);
        }
        for (int r = 0; r < n; r++) {
            if (!vis[r]) {
                sr[r][s] = -INFINITY;
                continue;
            }
            float dot = lem_hsum8(_mm256_add_ps(c0[r], c1[r]));
            for (int32_t t = i; t < d; t++) dot += qr[r][t] * k[t];
            float score = dot * scale;
            if (softcap > 0) score = tanhf(score / softcap) * softcap;
            sr[r][s] = score;
            if (score > mx[r]) mx[r] = score;
        }
    })
    float inv[4] = {0, 0, 0, 0};
    for (int r = 0; r < n; r++) {
        float *o = out + (size_t)r * ostride;
        for (int32_t j = 0; j < d; j++) o[j] = 0;
        if (mx[r] == -INFINITY) continue;
        float top = sink > mx[r] ? sink : mx[r];
        float sum = 0;
        for (int32_t s = 0; s < slots; s++) {
            if (sr[r][s] == -INFINITY) continue;
            float e = expf(sr[r][s] - top);
            sr[r][s] = e;
            sum += e;
        }
        sum += expf(sink - top);
        inv[r] = 1 / sum;
    }
    FOR_SLOTS({
        for (int r = 0; r < n; r++) {
            if (mx[r] == -INFINITY || sr[r][s] == -INFINITY) continue;
            axpy_avx2(sr[r][s] * inv[r], v, out + (size_t)r * ostride, d);
        }
    })
}

#pragma clang attribute pop
#endif

void lem_attend_row(ATTEND_PARAMS, lem_options opt) {
#if HAS_AVX2_BODIES
    if (lem_use_simd(opt)) {
        attend_avx2(q, runs, nruns, off, stride, d, pos, window, scale, softcap, sink, scores, out);
        return;
    }
#endif
    (void)opt;
    attend_scalar(q, runs, nruns, off, stride, d, pos, window, scale, softcap, sink, scores, out);
}

void lem_attend_partial(PARTIAL_PARAMS, lem_options opt) {
#if HAS_AVX2_BODIES
    if (lem_use_simd(opt)) {
        partial_avx2(q, group, runs, nruns, off, stride, s0, s1, d, pos, window, scale, softcap, scores, out, m, l);
        return;
    }
#endif
    (void)opt;
    partial_scalar(q, group, runs, nruns, off, stride, s0, s1, d, pos, window, scale, softcap, scores, out, m, l);
}

void lem_attend_rows4(ROWS4_PARAMS, lem_options opt) {
#if HAS_AVX2_BODIES
    if (n > 1 && lem_use_simd(opt)) {
        rows4_avx2(q, qstride, n, pos, runs, nruns, off, stride, d, window, scale, softcap, sink, scores, out, ostride);
        return;
    }
#endif
    for (int32_t r = 0; r < n; r++)
        lem_attend_row(q + (size_t)r * qstride, runs, nruns, off, stride, d, pos[r], window, scale, softcap, sink,
                       scores, out + (size_t)r * ostride, opt);
}
