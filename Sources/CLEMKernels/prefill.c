// Prefill matmul `out(T, N) = x(T, K) · W(N, K)ᵀ` over a stored (quantized) matrix, without
// OpenBLAS: the pool hands out chunks of weight rows from an atomic counter; a worker
// dequantizes its chunk into its own slice of the tile (sized to stay in L2), then multiplies all
// T tokens against it with a register-blocked dot kernel (4 tokens × 3 rows of 8-lane FMA
// accumulators along K). No operand is repacked: x and the tile rows are both contiguous along
// K, so each weight element is dequantized once per call and x is only read.

#include "lem_internal.h"
#include <stdatomic.h>

/// Target bytes of one worker's f32 tile chunk (half of a 512 KiB L2).
enum { LEM_PREFILL_CHUNK_BYTES = 256 * 1024 };

// MARK: scalar body (the portable path and the fast path's edges)

/// out[t·ldo + j] = x[t] · w[j] for t < T, j < R (plain loops).
static void gemm_nt_scalar(const float *x, int32_t T, int32_t K, const float *w, int32_t R, float *out, int32_t ldo) {
    for (int32_t t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        for (int32_t j = 0; j < R; j++) {
            const float *wr = w + (size_t)j * K;
            float s = 0;
            for (int32_t k = 0; k < K; k++) s += xr[k] * wr[k];
            out[(size_t)t * ldo + j] = s;
        }
    }
}

// MARK: AVX2 body

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "lem_avx2.h"

/// 4 tokens × 3 rows: 12 accumulators + 3 weight vectors + 1 activation = the 16 ymm registers.
static inline void block4x3(const float *x, int32_t K, const float *w, float *out, int32_t ldo) {
    const float *x0 = x, *x1 = x + K, *x2 = x + 2 * (size_t)K, *x3 = x + 3 * (size_t)K;
    const float *w0 = w, *w1 = w + K, *w2 = w + 2 * (size_t)K;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    int32_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 b0 = _mm256_loadu_ps(w0 + k), b1 = _mm256_loadu_ps(w1 + k), b2 = _mm256_loadu_ps(w2 + k), a;
        a = _mm256_loadu_ps(x0 + k);
        c00 = _mm256_fmadd_ps(a, b0, c00);
        c01 = _mm256_fmadd_ps(a, b1, c01);
        c02 = _mm256_fmadd_ps(a, b2, c02);
        a = _mm256_loadu_ps(x1 + k);
        c10 = _mm256_fmadd_ps(a, b0, c10);
        c11 = _mm256_fmadd_ps(a, b1, c11);
        c12 = _mm256_fmadd_ps(a, b2, c12);
        a = _mm256_loadu_ps(x2 + k);
        c20 = _mm256_fmadd_ps(a, b0, c20);
        c21 = _mm256_fmadd_ps(a, b1, c21);
        c22 = _mm256_fmadd_ps(a, b2, c22);
        a = _mm256_loadu_ps(x3 + k);
        c30 = _mm256_fmadd_ps(a, b0, c30);
        c31 = _mm256_fmadd_ps(a, b1, c31);
        c32 = _mm256_fmadd_ps(a, b2, c32);
    }
    float r[4][3] = {
        {lem_hsum8(c00), lem_hsum8(c01), lem_hsum8(c02)}, {lem_hsum8(c10), lem_hsum8(c11), lem_hsum8(c12)},
        {lem_hsum8(c20), lem_hsum8(c21), lem_hsum8(c22)}, {lem_hsum8(c30), lem_hsum8(c31), lem_hsum8(c32)}};
    for (; k < K; k++) {
        const float xs[4] = {x0[k], x1[k], x2[k], x3[k]}, ws[3] = {w0[k], w1[k], w2[k]};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) r[i][j] += xs[i] * ws[j];
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) out[(size_t)i * ldo + j] = r[i][j];
}

/// 1 token × 3 rows (the tokens left over after blocks of 4).
static inline void block1x3(const float *x, int32_t K, const float *w, float *out) {
    const float *w0 = w, *w1 = w + K, *w2 = w + 2 * (size_t)K;
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0;
    int32_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 a = _mm256_loadu_ps(x + k);
        c0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(w0 + k), c0);
        c1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(w1 + k), c1);
        c2 = _mm256_fmadd_ps(a, _mm256_loadu_ps(w2 + k), c2);
    }
    float s0 = lem_hsum8(c0), s1 = lem_hsum8(c1), s2 = lem_hsum8(c2);
    for (; k < K; k++) {
        s0 += x[k] * w0[k];
        s1 += x[k] * w1[k];
        s2 += x[k] * w2[k];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
}

/// out[t·ldo + j] = x[t] · w[j] for t < T, j < R: blocks of 4 × 3, then the edges.
static void gemm_nt_avx2(const float *x, int32_t T, int32_t K, const float *w, int32_t R, float *out, int32_t ldo) {
    int32_t r3 = R - R % 3, t4 = T - T % 4;
    for (int32_t t = 0; t < t4; t += 4) {
        const float *xt = x + (size_t)t * K;
        float *ot = out + (size_t)t * ldo;
        for (int32_t j = 0; j < r3; j += 3) block4x3(xt, K, w + (size_t)j * K, ot + j, ldo);
    }
    for (int32_t t = t4; t < T; t++) {
        const float *xt = x + (size_t)t * K;
        float *ot = out + (size_t)t * ldo;
        for (int32_t j = 0; j < r3; j += 3) block1x3(xt, K, w + (size_t)j * K, ot + j);
    }
    for (int32_t t = 0; t < T; t++)
        for (int32_t j = r3; j < R; j++) out[(size_t)t * ldo + j] = lem_dot_f32_inline(x + (size_t)t * K, w + (size_t)j * K, K);
}

#pragma clang attribute pop
#else
static void gemm_nt_avx2(const float *x, int32_t T, int32_t K, const float *w, int32_t R, float *out, int32_t ldo) {
    gemm_nt_scalar(x, T, K, w, R, out, ldo);
}
#endif

void lem_gemm_nt(const float *x, int32_t tokens, int32_t k, const float *w, int32_t rows, float *out, int32_t ldo,
                 lem_options opt) {
    if (lem_use_simd(opt)) gemm_nt_avx2(x, tokens, k, w, rows, out, ldo);
    else gemm_nt_scalar(x, tokens, k, w, rows, out, ldo);
}

// MARK: pooled prefill

typedef struct {
    const lem_matrix *m;
    const float *x;      // (T, K)
    float *out;          // (T, N)
    float *tile;         // (workers, chunk_rows, K)
    int32_t tokens;
    int32_t chunk_rows;  // weight rows per chunk, a multiple of 3 when >= 3
    int32_t chunks;
    int32_t max_workers; // tile slices available
    _Atomic int32_t next;
    int simd;            // the caller's kernel choice, used by every worker
} prefill_job;

static void prefill_task(void *ctx, int32_t worker, int32_t workers) {
    (void)workers;
    prefill_job *job = (prefill_job *)ctx;
    if (worker >= job->max_workers) return;  // no tile slice: the others take its chunks
    const lem_matrix *m = job->m;
    int32_t K = m->cols, N = m->rows;
    float *tile = job->tile + (size_t)worker * job->chunk_rows * K;
    for (;;) {
        int32_t c = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (c >= job->chunks) break;
        int32_t r0 = c * job->chunk_rows, r1 = r0 + job->chunk_rows < N ? r0 + job->chunk_rows : N;
        for (int32_t r = r0; r < r1; r++) lem_dequantize_row_tile(m, r, tile + (size_t)(r - r0) * K, job->simd);
        if (job->simd) gemm_nt_avx2(job->x, job->tokens, K, tile, r1 - r0, job->out + r0, N);
        else gemm_nt_scalar(job->x, job->tokens, K, tile, r1 - r0, job->out + r0, N);
    }
}

void lem_prefill_matmul(const lem_matrix *m, const float *x, int32_t tokens, float *tile, int32_t tile_rows, float *out,
                        lem_options opt) {
    int32_t K = m->cols, N = m->rows;
    int32_t workers = lem_pool_threads();
    if (workers > tile_rows) workers = tile_rows;
    if (workers < 1) workers = 1;
    // Rows per chunk: the worker's share of the tile, at most ~LEM_PREFILL_CHUNK_BYTES of f32,
    // a multiple of 3 (the kernel's row block) when possible.
    int32_t rows = tile_rows / workers;
    int32_t fit = (int32_t)(LEM_PREFILL_CHUNK_BYTES / (4 * (size_t)K));
    if (rows > fit) rows = fit;
    if (rows >= 3) rows -= rows % 3;
    if (rows < 1) rows = 1;
    prefill_job job;
    job.m = m;
    job.x = x;
    job.out = out;
    job.tile = tile;
    job.tokens = tokens;
    job.chunk_rows = rows;
    job.chunks = (N + rows - 1) / rows;
    job.max_workers = workers;
    job.simd = lem_use_simd(opt);
    atomic_store_explicit(&job.next, 0, memory_order_relaxed);
    if (workers <= 1 || job.chunks <= 1) prefill_task(&job, 0, 1);
    else lem_pool_run(prefill_task, &job);
}
