// Row-interleaved ("x8") copies of 4- and 8-bit matrices for decode (issue 4, session 5).
//
// The eight-row kernels (dot4_avx2.c) read eight rows from their stored places and reduce each
// row's 8-lane integer sums horizontally (`hadd`s, several µops each on this Zen 1 CPU), and
// gather the eight f16 scales one 16-bit load at a time. Here, at load, each group of eight
// logical rows is rewritten block by block so that one 32-byte vector holds four consecutive
// weight bytes of each of the eight rows: lane i of every integer product then belongs to row i,
// no horizontal reduction is needed, and the eight scales are one 16-byte load. The activation's
// bytes 4k .. 4k+3 of a block are broadcast to every lane straight from `lem_act.q` (a load for
// AVX2, the memory operand of `vpdpbusd` for VNNI); the kernels are in dot_x8_body.h.
//
// Layouts, per group of eight rows, block by block (32 columns; the bytes are the stored ones,
// moved, never re-quantized, so sizes equal the stored sizes):
//   Q4_0  [8 × f16 d][4 × 32 B]                 vector v: bytes 4v..4v+3 of each row's 16 nibble bytes
//   Q4_1  [8 × f16 d][8 × f16 m][4 × 32 B]
//   Q5_0  [8 × f16 d][8 × u32 high bits][4 × 32 B]
//   Q8_0  [8 × f16 d][8 × 32 B]                 vector v: bytes 4v..4v+3 of each row's 32 weights
//   MLX 4-bit, per group of `group_size` columns: [8 scales][8 biases] then per block [4 × 32 B]
// A GGUF nibble byte j holds columns j (low) and j + 16 (high), so vector v's low nibbles meet
// the activation's chunk v and its high nibbles chunk 4 + v. An MLX byte j holds columns 2j
// (low) and 2j + 1 (high); against the even-then-odd activation (`q_mlx`) the same holds.
//
// Every block's integer sums are exact and each lane runs the same float operations in the same
// order as the eight-row kernel, so an interleaved matvec equals the eight-row one bit for bit
// (tested), and pooled == serial still holds.
//
// Q8_0's signed weights take the sign trick and a 32-bit sum per vector, as in the eight-row
// kernel; what the layout saves there is the reductions, the scale gathers and (with two
// accumulator chains and the prefetch) stalls: 6 % from DRAM, ~30 % in cache (measured).

#include "lem_internal.h"
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int lem_x8_supported(const lem_matrix *m) {
    switch (m->format) {
    case LEM_FMT_Q4_0: case LEM_FMT_Q4_1: case LEM_FMT_Q5_0: case LEM_FMT_Q8_0: return m->cols % 32 == 0;
    case LEM_FMT_MLX4: return m->group_size > 0 && m->group_size % 32 == 0 && m->cols % m->group_size == 0;
    default: return 0;
    }
}


size_t lem_x8_bytes(const lem_matrix *m) {
    if (!lem_x8_supported(m) || m->rows < 8) return 0;
    return (size_t)(m->rows / 8) * 8 * lem_x8_row_bytes(m);
}

/// A GGUF block: its bytes, then its header fields (scale, minimum, high bits) in order, each
/// `size[k]` bytes; the weight bytes follow the header. In the copy field k becomes eight rows'
/// values side by side (8 · size[k] bytes), then come the weight vectors.
typedef struct {
    int bytes, fields, size[2];
} gguf_block;

static gguf_block gguf_layout(int32_t format) {
    switch (format) {
    case LEM_FMT_Q4_0: return (gguf_block){18, 1, {2, 0}};
    case LEM_FMT_Q8_0: return (gguf_block){34, 1, {2, 0}};
    case LEM_FMT_Q5_0: return (gguf_block){22, 2, {2, 4}};
    default: return (gguf_block){20, 2, {2, 2}};  // Q4_1
    }
}

static int gguf_header(gguf_block l) { return l.size[0] + (l.fields > 1 ? l.size[1] : 0); }

/// Writes group `g` (logical rows 8g ..< 8g + 8) of `m` into `dst`.
static void pack_group(const lem_matrix *m, int32_t g, uint8_t *dst) {
    const uint8_t *row[8];
    int32_t stored[8];
    for (int i = 0; i < 8; i++) {
        stored[i] = lem_stored_row(m, 8 * g + i);
        row[i] = m->base + (size_t)stored[i] * m->row_bytes;
    }
    if (m->format == LEM_FMT_MLX4) {
        int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
        size_t ss = (size_t)lem_scale_size(m->scale_type);
        for (int32_t q = 0; q < groups; q++) {
            for (int i = 0; i < 8; i++) {
                memcpy(dst + ss * i, m->scales + ((size_t)stored[i] * groups + q) * ss, ss);
                memcpy(dst + ss * (8 + i), m->biases + ((size_t)stored[i] * groups + q) * ss, ss);
            }
            dst += 16 * ss;
            for (int32_t k = 0; k < per; k++) {
                int32_t b = q * per + k;
                for (int v = 0; v < 4; v++) {
                    for (int i = 0; i < 8; i++) memcpy(dst + 32 * v + 4 * i, row[i] + 16 * b + 4 * v, 4);
                }
                dst += 128;
            }
        }
        return;
    }
    gguf_block l = gguf_layout(m->format);
    int header = gguf_header(l), vectors = (l.bytes - header) / 4;
    for (int32_t b = 0; b < m->cols / 32; b++) {
        for (int i = 0; i < 8; i++) {
            const uint8_t *p = row[i] + (size_t)l.bytes * b;
            for (int f = 0, at = 0; f < l.fields; at += l.size[f], f++) memcpy(dst + 8 * at + l.size[f] * i, p + at, (size_t)l.size[f]);
            for (int v = 0; v < vectors; v++) memcpy(dst + 8 * header + 32 * v + 4 * i, p + header + 4 * v, 4);
        }
        dst += 8 * l.bytes;
    }
}

typedef struct {
    const lem_matrix *m;
    uint8_t *dst;
    int32_t g0, g1;
} pack_job;

static void pack_task(void *ctx, int32_t worker, int32_t workers) {
    const pack_job *job = (const pack_job *)ctx;
    size_t group_bytes = 8 * lem_x8_row_bytes(job->m);
    for (int32_t g = job->g0 + worker; g < job->g1; g += workers) pack_group(job->m, g, job->dst + group_bytes * (size_t)g);
}

void lem_x8_pack(const lem_matrix *m, uint8_t *dst, int release) {
    int file = release == 2;
    if (lem_x8_bytes(m) == 0) return;
    int32_t groups = m->rows / 8;
    // Without a row permutation group g reads stored rows 8g ..< 8g + 8 only, so the source can
    // be released slice by slice (about 4 MiB at a time): the stored bytes and the copy are
    // never both resident in full (peak RSS of a 178 MB embedding: +4 MiB, not +178 MB).
    int slices = release && m->perm_heads <= 0;
    size_t slice_rows = slices ? ((size_t)4 << 20) / (m->row_bytes ? m->row_bytes : 1) / 8 * 8 : 0;
    int32_t step = slice_rows >= 8 && slice_rows < (size_t)m->rows ? (int32_t)(slice_rows / 8) : groups;
    size_t ss = m->format == LEM_FMT_MLX4 ? (size_t)(m->cols / m->group_size) * (size_t)lem_scale_size(m->scale_type) : 0;
    for (int32_t g0 = 0; g0 < groups; g0 += step) {
        int32_t g1 = g0 + step < groups ? g0 + step : groups;
        pack_job job = {m, dst, g0, g1};
        lem_pool_run(pack_task, &job);
        if (!release) continue;
        if (slices) {
            size_t r0 = (size_t)8 * g0, r1 = (size_t)8 * g1;
            lem_release_pages(m->base + r0 * m->row_bytes, (r1 - r0) * m->row_bytes, file);
            if (ss) {
                lem_release_pages(m->scales + r0 * ss, (r1 - r0) * ss, file);
                lem_release_pages(m->biases + r0 * ss, (r1 - r0) * ss, file);
            }
        } else if (g1 == groups && groups * 8 == m->rows) {
            // Permuted rows: every stored row was read by now.
            lem_release_pages(m->base, (size_t)m->rows * m->row_bytes, file);
            if (ss) {
                lem_release_pages(m->scales, (size_t)m->rows * ss, file);
                lem_release_pages(m->biases, (size_t)m->rows * ss, file);
            }
        }
    }
}

int lem_x8_row_view(const lem_matrix *m, int32_t r, uint8_t *tmp, size_t tmp_bytes, lem_matrix *view) {
    if (!m->x8 || r < 0 || r >= m->x8_rows || lem_x8_row_bytes(m) > tmp_bytes) return 0;
    int32_t g = r / 8, i = r % 8;
    const uint8_t *src = m->x8 + (size_t)g * 8 * lem_x8_row_bytes(m);
    *view = *m;
    view->rows = 1;
    view->perm_heads = 0;
    view->x8 = NULL;
    view->x8_rows = 0;
    view->base = tmp;
    if (m->format == LEM_FMT_MLX4) {
        int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
        size_t ss = (size_t)lem_scale_size(m->scale_type);
        uint8_t *q = tmp, *sc = tmp + m->cols / 2, *bi = sc + groups * ss;
        for (int32_t k = 0; k < groups; k++) {
            memcpy(sc + ss * k, src + ss * i, ss);
            memcpy(bi + ss * k, src + ss * (8 + i), ss);
            src += 16 * ss;
            for (int32_t j = 0; j < per; j++) {
                int32_t b = k * per + j;
                for (int v = 0; v < 4; v++) memcpy(q + 16 * b + 4 * v, src + 32 * v + 4 * i, 4);
                src += 128;
            }
        }
        view->row_bytes = (size_t)m->cols / 2;
        view->scales = sc;
        view->biases = bi;
        return 1;
    }
    gguf_block l = gguf_layout(m->format);
    int header = gguf_header(l), vectors = (l.bytes - header) / 4;
    for (int32_t b = 0; b < m->cols / 32; b++) {
        uint8_t *p = tmp + (size_t)l.bytes * b;
        for (int f = 0, at = 0; f < l.fields; at += l.size[f], f++) memcpy(p + at, src + 8 * at + l.size[f] * i, (size_t)l.size[f]);
        for (int v = 0; v < vectors; v++) memcpy(p + header + 4 * v, src + 8 * header + 32 * v + 4 * i, 4);
        src += 8 * l.bytes;
    }
    return 1;
}

void lem_release_pages(const void *p, size_t n, int file_mapping) {
    // Only the whole pages inside [p, p + n): a neighbour's bytes on a shared page stay.
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) / page * page, hi = ((uintptr_t)p + n) / page * page;
    if (hi <= lo) return;
    if (file_mapping) {
        // A read-only private file mapping: dropping the pages loses nothing (a later touch
        // reads the file again), and unlike MADV_PAGEOUT it also drops pages another process
        // (llama.cpp in the comparison script, a second lem) has mapped too.
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
        return;
    }
#ifdef MADV_PAGEOUT
    // Any other memory: anonymous pages are never discarded by MADV_PAGEOUT (at worst swapped).
    (void)madvise((void *)lo, hi - lo, MADV_PAGEOUT);
#endif
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#define LEM_VNNI 0
#define LEM_K(name) name##_avx2
#include "dot_x8_body.h"
#undef LEM_K
#undef LEM_VNNI

#pragma clang attribute pop

#else

void lem_dot_x8_avx2(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]) {
    for (int i = 0; i < 8; i++) out[i] = lem_dot_row_scalar(m, lem_stored_row(m, 8 * group + i), a);
}

void lem_dot_x8_multi_avx2(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out,
                           size_t stride) {
    for (int32_t t = 0; t < n; t++) lem_dot_x8_avx2(m, group, &acts[t], out + (size_t)t * stride);
}

#endif
