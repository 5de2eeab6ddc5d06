// Format dispatch, the row-parallel matvec over the pool, and row dequantization for prefill tiles.

#include "lem_internal.h"
#include <pthread.h>
#include <stdlib.h>

// What the CPU has, each -1 until asked: a cache of a fact about the machine, not a mode (what a
// call does is its `lem_options`).
static int simd_state = -1, vnni_state = -1;

/// `*state`, filled from `probe()` on first use.
static int cpu_fact(int *state, int (*probe)(void)) {
    int s = __atomic_load_n(state, __ATOMIC_RELAXED);
    if (s < 0) {
        s = probe();
        __atomic_store_n(state, s, __ATOMIC_RELAXED);
    }
    return s;
}

/// AVX2 + FMA + F16C.
int lem_cpu_simd(void) { return cpu_fact(&simd_state, lem_cpu_has_avx2); }

/// AVX-512 F + BW + VL + VNNI too (the VNNI decode dots).
int lem_cpu_vnni(void) { return cpu_fact(&vnni_state, lem_cpu_has_vnni); }

static int is_float(int32_t f) { return f == LEM_FMT_F32 || f == LEM_FMT_F16 || f == LEM_FMT_BF16; }

/// One instruction set's decode dots.
typedef struct {
    float (*row)(const lem_matrix *m, int32_t stored, const lem_act *a);
    void (*x8)(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]);
    void (*x8_multi)(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out, size_t stride);
    void (*row_multi)(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out, size_t stride);
} dot_kernels;

static const dot_kernels avx2_dots = {lem_dot_row_avx2, lem_dot_x8_avx2, lem_dot_x8_multi_avx2, lem_dot_row_multi_avx2};
#if defined(__x86_64__) || defined(_M_X64)
static const dot_kernels vnni_dots = {lem_dot_row_vnni, lem_dot_x8_vnni, lem_dot_x8_multi_vnni, lem_dot_row_multi_vnni};
#else
static const dot_kernels vnni_dots = {lem_dot_row_avx2, lem_dot_x8_avx2, lem_dot_x8_multi_avx2, lem_dot_row_multi_avx2};
#endif

/// The SIMD dots a call with `opt` runs.
static const dot_kernels *dots_for(lem_options opt) { return lem_use_vnni(opt) ? &vnni_dots : &avx2_dots; }

/// Whether several activations share a row's unpacking in `lem_dot_row_multi` (the K-quants).
static int unpacks_row_once(int32_t format) {
    return format == LEM_FMT_Q4_K || format == LEM_FMT_Q5_K || format == LEM_FMT_Q6_K;
}

/// A dequantized row dotted with the f32 input, the exact path's arithmetic.
static inline float exact_dot(const float *row, const float *x, int32_t cols, int simd) {
    if (simd) return lem_dot_f32_avx2(row, x, cols);
    float s = 0;
    for (int32_t i = 0; i < cols; i++) s += row[i] * x[i];
    return s;
}

/// Exact f32 rows [r0, r1): each row dequantized into `row`, then dotted with the f32 input.
static void exact_rows(const lem_matrix *m, const lem_act *a, float *out, int32_t r0, int32_t r1, float *row, int simd) {
    for (int32_t r = r0; r < r1; r++) {
        lem_dequantize_row(m, r, row);
        out[r - r0] = exact_dot(row, a->x, m->cols, simd);
    }
}

enum { LEM_EXACT_MAX_COLS = 16384 };

/// AVX2 rows [r0, r1) from the stored layout against the 8-bit (or, for float formats, f32)
/// activation: eight rows per call where a multi-row kernel exists and `dot8` (the last group
/// repeats its final row), else one by one. With the next group's rows prefetched the eight-row
/// kernels beat the one-row ones (docs/PERFORMANCE.md, "Decode, session 4"); without the prefetch
/// they lost on DRAM-resident matrices.
static void stored_rows(const lem_matrix *m, const lem_act *a, float *out, int32_t r0, int32_t r1, int dot8,
                        const dot_kernels *k) {
    if (a->q8 && dot8 && lem_dot4_supported(m->format)) {
        for (int32_t r = r0; r < r1; r += 8) {
            int32_t n = r1 - r < 8 ? r1 - r : 8;
            int32_t stored[8];
            float o[8];
            for (int32_t i = 0; i < 8; i++) stored[i] = lem_stored_row(m, r + (i < n ? i : n - 1));
            lem_dot_rows8_avx2(m, stored, a, o);
            for (int32_t i = 0; i < n; i++) out[r - r0 + i] = o[i];
        }
    } else {
        for (int32_t r = r0; r < r1; r++) out[r - r0] = k->row(m, lem_stored_row(m, r), a);
    }
}

/// Whether the interleaved kernels can run `m` against `acts`: a copy, 8-bit activations and,
/// for MLX 4-bit, their MLX-order copies (`prepare_act` makes them).
static int x8_ready(const lem_matrix *m, const lem_act *acts, int32_t n) {
    if (!m->x8) return 0;
    for (int32_t i = 0; i < n; i++) {
        if (!acts[i].q8 || (m->format == LEM_FMT_MLX4 && !acts[i].q_mlx)) return 0;
    }
    return 1;
}

static void simd_rows(const lem_matrix *m, const lem_act *a, float *out, int32_t r0, int32_t r1, int dot8,
                      const dot_kernels *k) {
    int32_t g0 = (r0 + 7) / 8, g1 = (r1 < m->x8_rows ? r1 : m->x8_rows) / 8;
    if (dot8 && g0 < g1 && x8_ready(m, a, 1)) {
        stored_rows(m, a, out, r0, 8 * g0, dot8, k);
        for (int32_t g = g0; g < g1; g++) k->x8(m, g, a, out + 8 * g - r0);
        stored_rows(m, a, out + 8 * g1 - r0, 8 * g1, r1, dot8, k);
    } else {
        stored_rows(m, a, out, r0, r1, dot8, k);
    }
}

// The calling thread's MLX-order activations of a batch (`lem_matvec_batch`), grown on demand and
// freed when the thread ends, so a batch allocates nothing once a thread has seen its widest one.
typedef struct {
    int8_t *qm;  // (n · cols)
    size_t cap;
} order_buffer;

static pthread_key_t order_key;
static pthread_once_t order_once = PTHREAD_ONCE_INIT;

static void order_free(void *p) {
    order_buffer *b = (order_buffer *)p;
    free(b->qm);
    free(b);
}

static void order_key_make(void) { (void)pthread_key_create(&order_key, order_free); }

/// The calling thread's room for `n` MLX-order activations of `cols`, or NULL without memory.
static int8_t *order_for(int32_t cols, int32_t n) {
    (void)pthread_once(&order_once, order_key_make);
    order_buffer *b = (order_buffer *)pthread_getspecific(order_key);
    if (!b) {
        b = (order_buffer *)calloc(1, sizeof *b);
        if (!b || pthread_setspecific(order_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    size_t need = (size_t)cols * (size_t)n;
    if (b->cap < need) {
        int8_t *qm = (int8_t *)malloc(need);
        if (!qm) return NULL;
        free(b->qm);
        b->qm = qm;
        b->cap = need;
    }
    return b->qm;
}

/// Whether the matrices read an MLX-order copy of the 8-bit activation `a` that it lacks.
static int needs_mlx_order(const lem_matrix *const *ms, int32_t count, const lem_act *a, int simd) {
    if (!simd || !a->q8 || a->q_mlx || a->cols > LEM_EXACT_MAX_COLS) return 0;
    for (int32_t i = 0; i < count; i++) {
        if (ms[i]->format == LEM_FMT_MLX4) return 1;
    }
    return 0;
}

/// `local` = `a` with its MLX-order copy written to `qm`.
static void fill_act(const lem_act *a, lem_act *local, int8_t *qm) {
    *local = *a;
    lem_act_mlx_order(a->q, qm, a->cols);
    local->q_mlx = qm;
}

/// Fills `local` (a copy of `a`) with the MLX-order activation in `qm` when these matrices read
/// one and `a` lacks it; 0 when nothing was needed (then `local` is not used).
static int prepare_act(const lem_matrix *const *ms, int32_t count, const lem_act *a, int simd, lem_act *local, int8_t *qm) {
    if (!needs_mlx_order(ms, count, a, simd)) return 0;
    fill_act(a, local, qm);
    return 1;
}

int lem_prefill_dots_supported(const lem_matrix *m) {
    return lem_x8_supported(m);
}

int lem_format_supported(int32_t format, int32_t cols) {
    switch (format) {
    case LEM_FMT_F32: case LEM_FMT_F16: case LEM_FMT_BF16: return cols > 0;
    case LEM_FMT_Q4_K: case LEM_FMT_Q5_K: case LEM_FMT_Q6_K: return cols > 0 && cols % 256 == 0;
    case LEM_FMT_Q4_0: case LEM_FMT_Q4_1: case LEM_FMT_Q5_0: case LEM_FMT_Q5_1: case LEM_FMT_Q8_0:
    case LEM_FMT_MLX4: case LEM_FMT_MLX8: case LEM_FMT_MXFP4: return cols > 0 && cols % 32 == 0;
    default: return 0;
    }
}

void lem_prepare_act(lem_act *a, lem_options opt) {
    if (!opt.q8) {
        a->q8 = 0;
        return;
    }
    if (lem_use_simd(opt)) lem_quantize_act_avx2(a);
    else lem_quantize_act_scalar(a);
    a->q8 = 1;
}

void lem_matvec_rows(const lem_matrix *m, const lem_act *a, float *out, int32_t r0, int32_t r1, lem_options opt) {
    int simd = lem_use_simd(opt);
    if (!is_float(m->format) && !a->q8 && m->cols <= LEM_EXACT_MAX_COLS) {
        float row[LEM_EXACT_MAX_COLS];
        exact_rows(m, a, out, r0, r1, row, simd);
    } else if (simd) {
        int8_t qm[LEM_EXACT_MAX_COLS];
        lem_act local;
        int prepared = prepare_act(&m, 1, a, 1, &local, qm);
        simd_rows(m, prepared ? &local : a, out, r0, r1, opt.dot8, dots_for(opt));
    } else {
        float (*row)(const lem_matrix *, int32_t, const lem_act *) = LEM_PORTABLE_ROW(opt.simd);
        for (int32_t r = r0; r < r1; r++) out[r - r0] = row(m, lem_stored_row(m, r), a);
    }
}

// MARK: row-parallel matvec, for one activation or several sequences' decode steps

typedef struct {
    const lem_matrix *const *ms;
    float *const *outs;      // outs[i]: (n, ms[i]->rows)
    int32_t count;
    const lem_act *acts;     // (n)
    int32_t n;
    int32_t chunk;
    int32_t chunk_start[9];
    int simd, dot8;
    int allow_simd;           // the caller's `opt.simd` (the portable path's NEON dots on arm64)
    const dot_kernels *dots;  // the SIMD dots (with `simd`)
} batch_job;

/// Rows of chunk `c` for every activation: the chunk's weight bytes are read from memory once and
/// stay in cache while each activation is dotted with them by the same per-row calls, so every
/// output is what that activation alone computes, bit for bit.
static void batch_chunk(void *ctx, int32_t c, int32_t chunks) {
    (void)chunks;
    const batch_job *job = (const batch_job *)ctx;
    int32_t mi = 0;
    while (c >= job->chunk_start[mi + 1]) mi++;
    const lem_matrix *m = job->ms[mi];
    int32_t r0 = (c - job->chunk_start[mi]) * job->chunk;
    int32_t r1 = r0 + job->chunk < m->rows ? r0 + job->chunk : m->rows;
    size_t stride = (size_t)m->rows;
    float *out = job->outs[mi];
    if (!job->acts[0].q8 && !is_float(m->format) && m->cols <= LEM_EXACT_MAX_COLS) {
        float row[LEM_EXACT_MAX_COLS];
        for (int32_t r = r0; r < r1; r++) {
            lem_dequantize_row(m, r, row);
            for (int32_t b = 0; b < job->n; b++) out[b * stride + r] = exact_dot(row, job->acts[b].x, m->cols, job->simd);
        }
    } else if (job->simd && job->dot8 && job->n > 1 && x8_ready(m, job->acts, job->n)) {
        // Interleaved groups: each group's weights are unpacked once for every activation; the
        // rows outside whole groups as `simd_rows` reads them.
        int32_t g0 = (r0 + 7) / 8, g1 = (r1 < m->x8_rows ? r1 : m->x8_rows) / 8;
        if (g1 < g0) g1 = g0;
        int32_t head = 8 * g0 < r1 ? 8 * g0 : r1, tail = 8 * g1 > head ? 8 * g1 : head;
        for (int32_t g = g0; g < g1; g++) job->dots->x8_multi(m, g, job->acts, job->n, out + 8 * g, stride);
        for (int32_t b = 0; b < job->n; b++) {
            float *o = out + b * stride;
            if (r0 < head) stored_rows(m, &job->acts[b], o + r0, r0, head, job->dot8, job->dots);
            if (tail < r1) stored_rows(m, &job->acts[b], o + tail, tail, r1, job->dot8, job->dots);
        }
    } else if (job->simd && job->n > 1 && job->acts[0].q8 && unpacks_row_once(m->format)) {
        // One row at a time against every activation (the row unpacked once per four).
        for (int32_t r = r0; r < r1; r++) job->dots->row_multi(m, lem_stored_row(m, r), job->acts, job->n, out + r, stride);
    } else if (job->simd) {
        for (int32_t b = 0; b < job->n; b++) simd_rows(m, &job->acts[b], out + b * stride + r0, r0, r1, job->dot8, job->dots);
    } else {
        float (*row)(const lem_matrix *, int32_t, const lem_act *) = LEM_PORTABLE_ROW(job->allow_simd);
        for (int32_t b = 0; b < job->n; b++) {
            for (int32_t r = r0; r < r1; r++) out[b * stride + r] = row(m, lem_stored_row(m, r), &job->acts[b]);
        }
    }
}

/// Splits `job`'s rows into chunks (about 16 per worker, multiples of 8 rows so the eight-row
/// kernels never pad a chunk's last group) and runs them over the pool; below ~64 KB of weight
/// reads a second thread costs more to wake than it saves, so they run here.
static void run_batch(batch_job *job) {
    int32_t workers = lem_pool_threads();
    size_t work = 0;
    int32_t rows = 0;
    for (int32_t i = 0; i < job->count; i++) {
        rows += job->ms[i]->rows;
        work += (size_t)job->ms[i]->rows * job->ms[i]->row_bytes;
    }
    int32_t chunk = (rows / (workers * 16) + 7) / 8 * 8;
    job->chunk = chunk < 8 ? 8 : chunk;
    job->chunk_start[0] = 0;
    for (int32_t i = 0; i < job->count; i++) {
        job->chunk_start[i + 1] = job->chunk_start[i] + (job->ms[i]->rows + job->chunk - 1) / job->chunk;
    }
    int32_t chunks = job->chunk_start[job->count];
    if (workers <= 1 || work * (size_t)job->n < 65536) {
        for (int32_t c = 0; c < chunks; c++) batch_chunk(job, c, chunks);
    } else {
        lem_pool_run_chunks(batch_chunk, job, chunks);
    }
}

void lem_matvec_batch(const lem_matrix *const *ms, int32_t count, const lem_act *acts, int32_t n, float *const *outs,
                      lem_options opt) {
    if (count <= 0 || n <= 0) return;
    if (count > 8) {
        lem_matvec_batch(ms, 8, acts, n, outs, opt);
        lem_matvec_batch(ms + 8, count - 8, acts, n, outs + 8, opt);
        return;
    }
    if (n > LEM_BATCH_MAX) {
        float *rest[8];
        for (int32_t i = 0; i < count; i++) rest[i] = outs[i] + (size_t)LEM_BATCH_MAX * ms[i]->rows;
        lem_matvec_batch(ms, count, acts, LEM_BATCH_MAX, outs, opt);
        lem_matvec_batch(ms, count, acts + LEM_BATCH_MAX, n - LEM_BATCH_MAX, rest, opt);
        return;
    }
    batch_job job;
    job.ms = ms;
    job.outs = outs;
    job.count = count;
    job.n = n;
    job.simd = lem_use_simd(opt);
    job.allow_simd = opt.simd != 0;
    job.dots = dots_for(opt);
    job.dot8 = opt.dot8 != 0;
    job.acts = acts;
    lem_act local[LEM_BATCH_MAX];
    if (needs_mlx_order(ms, count, &acts[0], job.simd)) {
        int32_t cols = acts[0].cols;
        int8_t *qm = order_for(cols, n);
        if (qm) {
            for (int32_t i = 0; i < n; i++) fill_act(&acts[i], &local[i], qm + (size_t)i * cols);
            job.acts = local;
        } else {
            // No memory for the batch's MLX-order copies: one activation at a time, its copy on
            // the stack.
            int8_t one_qm[LEM_EXACT_MAX_COLS];
            for (int32_t i = 0; i < n; i++) {
                float *one[8];
                for (int32_t k = 0; k < count; k++) one[k] = outs[k] + (size_t)i * ms[k]->rows;
                fill_act(&acts[i], &local[0], one_qm);
                job.acts = local;
                job.n = 1;
                job.outs = one;
                run_batch(&job);
            }
            return;
        }
    }
    run_batch(&job);
}

void lem_matvec_multi(const lem_matrix *const *ms, int32_t count, const lem_act *a, float *const *outs,
                      lem_options opt) {
    lem_matvec_batch(ms, count, a, 1, outs, opt);
}

void lem_matvec(const lem_matrix *m, const lem_act *a, float *out, lem_options opt) {
    const lem_matrix *ms[1] = {m};
    float *outs[1] = {out};
    lem_matvec_multi(ms, 1, a, outs, opt);
}

// MARK: dequantization

void lem_dequantize_row(const lem_matrix *m, int32_t r, float *out) {
    if (m->x8 && r < m->x8_rows) {
        uint8_t tmp[LEM_X8_VIEW_BYTES];
        lem_matrix view;
        if (lem_x8_row_view(m, r, tmp, sizeof tmp, &view)) {
            lem_dequantize_row(&view, 0, out);
            return;
        }
    }
    int32_t stored = lem_stored_row(m, r);
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    int32_t n = m->cols;
    switch (m->format) {
    case LEM_FMT_F32: memcpy(out, row, (size_t)n * 4); return;
    case LEM_FMT_F16: for (int32_t i = 0; i < n; i++) out[i] = lem_f16(lem_u16(row + 2 * i)); return;
    case LEM_FMT_BF16: for (int32_t i = 0; i < n; i++) out[i] = lem_bf16(lem_u16(row + 2 * i)); return;
    case LEM_FMT_Q4_0: case LEM_FMT_Q4_1:
        for (int32_t b = 0; b < n / 32; b++) {
            int has_min = m->format == LEM_FMT_Q4_1;
            const uint8_t *p = row + (has_min ? 20 : 18) * b, *qs = p + (has_min ? 4 : 2);
            float d = lem_f16(lem_u16(p)), mn = has_min ? lem_f16(lem_u16(p + 2)) : -8 * d;
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = d * (float)(qs[j] & 0x0F) + mn;
                out[32 * b + j + 16] = d * (float)(qs[j] >> 4) + mn;
            }
        }
        return;
    case LEM_FMT_Q5_0: case LEM_FMT_Q5_1:
        for (int32_t b = 0; b < n / 32; b++) {
            int has_min = m->format == LEM_FMT_Q5_1;
            const uint8_t *p = row + (has_min ? 24 : 22) * b, *qs = p + (has_min ? 8 : 6);
            float d = lem_f16(lem_u16(p));
            uint32_t qh;
            memcpy(&qh, qs - 4, 4);
            for (int j = 0; j < 16; j++) {
                int lo = (qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
                int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
                if (has_min) {
                    float mn = lem_f16(lem_u16(p + 2));
                    out[32 * b + j] = d * (float)lo + mn;
                    out[32 * b + j + 16] = d * (float)hi + mn;
                } else {
                    out[32 * b + j] = d * (float)(lo - 16);
                    out[32 * b + j + 16] = d * (float)(hi - 16);
                }
            }
        }
        return;
    case LEM_FMT_MXFP4:
        for (int32_t b = 0; b < n / 32; b++) {
            const uint8_t *p = row + 17 * b;
            float d = lem_e8m0_half(p[0]);
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = (float)lem_mxfp4_values[p[1 + j] & 0x0F] * d;
                out[32 * b + j + 16] = (float)lem_mxfp4_values[p[1 + j] >> 4] * d;
            }
        }
        return;
    case LEM_FMT_Q8_0:
        for (int32_t b = 0; b < n / 32; b++) {
            const uint8_t *p = row + 34 * b;
            float d = lem_f16(lem_u16(p));
            for (int j = 0; j < 32; j++) out[32 * b + j] = (float)(int8_t)p[2 + j] * d;
        }
        return;
    case LEM_FMT_Q4_K: case LEM_FMT_Q5_K: {
        int five = m->format == LEM_FMT_Q5_K, bytes = five ? 176 : 144, qs = five ? 48 : 16;
        for (int32_t sbk = 0; sbk < n / 256; sbk++) {
            const uint8_t *p = row + bytes * sbk;
            float d = lem_f16(lem_u16(p)), dmin = lem_f16(lem_u16(p + 2));
            for (int j = 0; j < 8; j++) {
                uint8_t sc, mn;
                lem_scale_min_k4(j, p + 4, &sc, &mn);
                float d1 = d * (float)sc, m1 = dmin * (float)mn;
                int shift = (j % 2) * 4;
                for (int l = 0; l < 32; l++) {
                    int q = (p[qs + (j / 2) * 32 + l] >> shift) & 0x0F;
                    if (five) q |= ((p[16 + l] >> j) & 1) << 4;
                    out[256 * sbk + 32 * j + l] = d1 * (float)q - m1;
                }
            }
        }
        return;
    }
    case LEM_FMT_Q6_K:
        for (int32_t sbk = 0; sbk < n / 256; sbk++) {
            const uint8_t *p = row + 210 * sbk;
            float d = lem_f16(lem_u16(p + 208));
            for (int e = 0; e < 256; e++) {
                int half = e / 128, r = e % 128;
                int low = (p[half * 64 + r % 64] >> ((r / 64) * 4)) & 0x0F;
                int high = (p[128 + half * 32 + r % 32] >> ((r / 32) * 2)) & 3;
                out[256 * sbk + e] = d * (float)((const int8_t *)(p + 192))[e / 16] * (float)((low | (high << 4)) - 32);
            }
        }
        return;
    case LEM_FMT_MLX4: case LEM_FMT_MLX8: {
        int32_t groups = n / m->group_size;
        size_t ss = (size_t)lem_scale_size(m->scale_type);
        const uint8_t *sp = m->scales + (size_t)stored * groups * ss, *bp = m->biases + (size_t)stored * groups * ss;
        for (int32_t i = 0; i < n; i++) {
            int32_t g = i / m->group_size;
            int q = m->format == LEM_FMT_MLX4 ? ((row[i >> 1] >> ((i & 1) * 4)) & 0x0F) : row[i];
            out[i] = lem_scale_at(sp, m->scale_type, g) * (float)q + lem_scale_at(bp, m->scale_type, g);
        }
        return;
    }
    default:
        for (int32_t i = 0; i < n; i++) out[i] = 0;
    }
}

typedef struct {
    const lem_matrix *m;
    int32_t r0, r1;
    float *out;
} dequant_job;

static void dequant_task(void *ctx, int32_t worker, int32_t workers) {
    dequant_job *job = (dequant_job *)ctx;
    int32_t rows = job->r1 - job->r0, per = (rows + workers - 1) / workers;
    int32_t lo = worker * per, hi = lo + per < rows ? lo + per : rows;
    for (int32_t i = lo; i < hi; i++) lem_dequantize_row(job->m, job->r0 + i, job->out + (size_t)i * job->m->cols);
}

void lem_dequantize_rows(const lem_matrix *m, int32_t r0, int32_t r1, float *out) {
    dequant_job job = {m, r0, r1, out};
    if (lem_pool_threads() <= 1 || r1 - r0 < 8) dequant_task(&job, 0, 1);
    else lem_pool_run(dequant_task, &job);
}
