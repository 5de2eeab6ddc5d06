// Row-interleaved ("x8") copies of 4- and 8-bit matrices for decode (issue 4, session 5).
//
// The eight-row kernels (dot4_avx2.c) read eight rows from their stored places and reduce each
// row's 8-lane integer sums horizontally (`hadd`s, several µops each on this Zen 1 CPU), and
// gather the eight f16 scales one 16-bit load at a time. Here, at load, each group of eight
// logical rows is rewritten block by block so that one 32-byte vector holds four consecutive
// weight bytes of each of the eight rows: lane i of every integer product then belongs to row i,
// no horizontal reduction is needed, and the eight scales are one 16-byte load. The activation is
// prepared once per matvec as eight broadcast vectors per block (`lem_act.qb`): vector k holds
// the block's bytes 4k .. 4k+3 in every lane.
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

/// Bytes of one row in the interleaved copy (the stored bytes of the row, scales included).
static size_t x8_row_bytes(const lem_matrix *m) {
    if (m->format != LEM_FMT_MLX4) return m->row_bytes;
    size_t groups = (size_t)(m->cols / m->group_size);
    return (size_t)m->cols / 2 + 2 * groups * (size_t)lem_scale_size(m->scale_type);
}

size_t lem_x8_bytes(const lem_matrix *m) {
    if (!lem_x8_supported(m) || m->rows < 8) return 0;
    return (size_t)(m->rows / 8) * 8 * x8_row_bytes(m);
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
    size_t group_bytes = 8 * x8_row_bytes(job->m);
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
    if (!m->x8 || r < 0 || r >= m->x8_rows || x8_row_bytes(m) > tmp_bytes) return 0;
    int32_t g = r / 8, i = r % 8;
    const uint8_t *src = m->x8 + (size_t)g * 8 * x8_row_bytes(m);
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

void lem_act_broadcast(const int8_t *q, int8_t *qb, int32_t cols) {
    for (int32_t c = 0; c < cols / 4; c++) {
        int32_t v;
        memcpy(&v, q + 4 * c, 4);
        _mm256_storeu_si256((__m256i *)(qb + 32 * c), _mm256_set1_epi32(v));
    }
}

/// One block of eight rows' nibbles (4 × 32 bytes at `w`) against the block's eight broadcast
/// activation vectors `qb`: the eight rows' exact integer sums, lane i = row i, as floats.
/// Each 16-bit lane adds eight u4 × i8 pairs: at most 8 · 15 · 127 = 15240 in magnitude (s0, s1
/// separately; their sum ≤ 30480), so nothing saturates.
static inline __m256 nibble_sums(const uint8_t *w, const int8_t *qb) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (int v = 0; v < 4; v++) {
        __m256i raw = _mm256_loadu_si256((const __m256i *)(w + 32 * v));
        __m256i lo = _mm256_and_si256(raw, m4), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(qb + 32 * v))));
        s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(qb + 32 * (4 + v)))));
    }
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_add_epi16(s0, s1), _mm256_set1_epi16(1)));
}

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

static inline __m256 x8_q4(const uint8_t *g, const lem_act *a, int has_min) {
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    int header = has_min ? 32 : 16;
    for (int32_t b = 0; b < a->cols / 32; b++, g += header + 128) {
        prefetch_ahead(g);
        __m256 ints = nibble_sums(g + header, a->qb + 256 * b);
        __m256 dw = scales8(g, LEM_SCALE_F16);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d[b])), ints, acc);
        off = _mm256_fmadd_ps(has_min ? scales8(g + 16, LEM_SCALE_F16) : dw, _mm256_set1_ps(a->s[b]), off);
    }
    return has_min ? _mm256_add_ps(acc, off) : _mm256_fnmadd_ps(_mm256_set1_ps(8), off, acc);
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

/// Q5_0: `[8 × f16 d][8 × u32 high bits][4 × 32 B nibbles]` per block; values q − 16. A 16-bit
/// lane adds four u5 × i8 pairs per chain: at most 4 · 2 · 31 · 127 = 31496, so low and high
/// nibbles keep separate chains and meet in 32 bits.
static inline __m256 x8_q5_0(const uint8_t *g, const lem_act *a) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    const __m256i even = _mm256_set1_epi32(0x08040201), odd = _mm256_set1_epi32((int)0x80402010u);
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    for (int32_t b = 0; b < a->cols / 32; b++, g += 176) {
        prefetch_ahead(g);
        const int8_t *qb = a->qb + 256 * b;
        __m256i qh = _mm256_loadu_si256((const __m256i *)(g + 16));
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (int v = 0; v < 4; v++) {
            __m256i raw = _mm256_loadu_si256((const __m256i *)(g + 48 + 32 * v));
            __m256i mask = v % 2 ? odd : even;
            __m256i lo = _mm256_or_si256(_mm256_and_si256(raw, m4), q5_high(qh, v, 0, mask));
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), q5_high(qh, v, 1, mask));
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(qb + 32 * v))));
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(qb + 32 * (4 + v)))));
        }
        __m256i s = _mm256_add_epi32(_mm256_madd_epi16(s0, ones), _mm256_madd_epi16(s1, ones));
        __m256 dw = scales8(g, LEM_SCALE_F16);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(a->d[b])), _mm256_cvtepi32_ps(s), acc);
        off = _mm256_fmadd_ps(dw, _mm256_set1_ps(a->s[b]), off);
    }
    return _mm256_fnmadd_ps(_mm256_set1_ps(16), off, acc);
}

/// Q8_0: vector v's lane i holds row i's weights 4v .. 4v+3, against the activation's chunk v.
/// A pair of i8 products is at most 2 · 128 · 127 < 32767 (the sign moved onto the activation).
static inline __m256 x8_q8_0(const uint8_t *g, const lem_act *a) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int32_t b = 0; b < a->cols / 32; b++, g += 272) {
        prefetch_ahead(g);  // a block is 272 bytes: five lines
        prefetch_ahead(g + 128);
        const int8_t *qb = a->qb + 256 * b;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        for (int v = 0; v < 8; v += 2) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(g + 16 + 32 * v));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(g + 48 + 32 * v));
            __m256i q0 = _mm256_loadu_si256((const __m256i *)(qb + 32 * v));
            __m256i q1 = _mm256_loadu_si256((const __m256i *)(qb + 32 * v + 32));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(q0, w0)), ones));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(q1, w1)), ones));
        }
        __m256i s = _mm256_add_epi32(s0, s1);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(scales8(g, LEM_SCALE_F16), _mm256_set1_ps(a->d[b])), _mm256_cvtepi32_ps(s), acc);
    }
    return acc;
}

static inline __m256 x8_mlx4(const lem_matrix *m, const uint8_t *g, const lem_act *a) {
    int32_t groups = m->cols / m->group_size, per = m->group_size / 32;
    int ss = lem_scale_size(m->scale_type);
    __m256 acc = _mm256_setzero_ps(), off = _mm256_setzero_ps();
    for (int32_t q = 0; q < groups; q++) {
        __m256 sc = scales8(g, m->scale_type), bias = scales8(g + 8 * ss, m->scale_type);
        g += 16 * ss;
        for (int32_t k = 0; k < per; k++, g += 128) {
            prefetch_ahead(g);
            int32_t b = q * per + k;
            __m256 ints = nibble_sums(g, a->qb_mlx + 256 * b);
            acc = _mm256_fmadd_ps(_mm256_mul_ps(sc, _mm256_set1_ps(a->d[b])), ints, acc);
            off = _mm256_fmadd_ps(bias, _mm256_set1_ps(a->s[b]), off);
        }
    }
    return _mm256_add_ps(acc, off);
}

void lem_dot_x8_avx2(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]) {
    const uint8_t *g = m->x8 + (size_t)group * 8 * x8_row_bytes(m);
    __m256 v;
    switch (m->format) {
    case LEM_FMT_Q4_0: v = x8_q4(g, a, 0); break;
    case LEM_FMT_Q4_1: v = x8_q4(g, a, 1); break;
    case LEM_FMT_Q5_0: v = x8_q5_0(g, a); break;
    case LEM_FMT_Q8_0: v = x8_q8_0(g, a); break;
    default: v = x8_mlx4(m, g, a); break;
    }
    _mm256_storeu_ps(out, v);
}

#pragma clang attribute pop

#else

void lem_act_broadcast(const int8_t *q, int8_t *qb, int32_t cols) {
    for (int32_t c = 0; c < cols / 4; c++) {
        for (int i = 0; i < 8; i++) memcpy(qb + 32 * c + 4 * i, q + 4 * c, 4);
    }
}

void lem_dot_x8_avx2(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]) {
    for (int i = 0; i < 8; i++) out[i] = lem_dot_row_scalar(m, lem_stored_row(m, 8 * group + i), a);
}

#endif
