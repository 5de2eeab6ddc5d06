#ifndef LEM_KERNELS_H
#define LEM_KERNELS_H
// Quantized matrix-vector kernels and a persistent worker pool for LEMEngine.
//
// A matrix is read in its stored form (GGUF blocks, MLX packed nibbles, f32/f16/bf16 rows) and
// never expanded to f32. Quantized formats are dotted against the activation quantized once per
// matvec to 8-bit blocks of 32 (`lem_act`): each block keeps a float scale `d` and `s = d·Σq`, so a
// weight block's integer dot is scaled once and its offset/minimum term uses `s`.
// Every kernel has an AVX2/FMA/F16C body and a portable scalar body computing the same block
// arithmetic, and the decode dots an AVX-512 VNNI variant of the AVX2 body; each call says which
// it may use (`lem_options`), a variant running only where cpuid reports its extensions.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Storage formats a matrix can be read in.
typedef enum {
    LEM_FMT_F32 = 0,
    LEM_FMT_F16 = 1,
    LEM_FMT_BF16 = 2,
    LEM_FMT_Q4_0 = 3,
    LEM_FMT_Q4_1 = 4,
    LEM_FMT_Q5_0 = 5,
    LEM_FMT_Q5_1 = 6,
    LEM_FMT_Q8_0 = 7,
    LEM_FMT_Q4_K = 8,
    LEM_FMT_Q6_K = 9,
    LEM_FMT_MLX4 = 10,
    LEM_FMT_MLX8 = 11,
    LEM_FMT_Q5_K = 12,
    LEM_FMT_MXFP4 = 13,  // ggml block_mxfp4: E8M0 exponent, 16 bytes of E2M1 nibbles (j low, j + 16 high)
} lem_format;

/// Float types of MLX scales and biases.
typedef enum { LEM_SCALE_F32 = 0, LEM_SCALE_F16 = 1, LEM_SCALE_BF16 = 2 } lem_scale_type;

/// A `[rows, cols]` matrix in its stored form.
typedef struct {
    int32_t format;        // lem_format
    int32_t rows, cols;
    const uint8_t *base;   // first byte of stored row 0
    size_t row_bytes;      // bytes of one stored row
    int32_t perm_heads;    // > 0: rows are llama.cpp-permuted over this many heads (GGUF q/k)
    // MLX affine only: (rows, cols / group_size) scales and biases of `scale_type`.
    const uint8_t *scales, *biases;
    int32_t scale_type;    // lem_scale_type
    int32_t group_size;
    // NULL, or the row-interleaved copy of logical rows [0, x8_rows) (x8_rows a multiple of 8;
    // `lem_x8_pack`, Sources/CLEMKernels/dot_x8.c): decode reads it instead of `base`, and so
    // does row dequantization. `base` (and MLX scales/biases) must stay valid for the rows after.
    const uint8_t *x8;
    int32_t x8_rows;
} lem_matrix;

/// One activation vector of `cols` floats prepared for a matvec.
typedef struct {
    int32_t cols;
    const float *x;   // (cols) the original floats, used by the float formats
    int8_t *q;        // (cols) 8-bit values, q = round(x / d) per block of 32
    float *d;         // (cols / 32) block scales, max|x| / 127
    float *s;         // (cols / 32) d · Σ q per block (the dequantized block sum)
    int32_t q8;       // 1: quantized formats use q/d/s; 0: exact f32 against x
    // (cols) or NULL: q with each block's even elements first, then its odd ones (MLX 4-bit
    // nibble order). The matvecs fill a stack copy themselves when an MLX 4-bit matrix needs it.
    const int8_t *q_mlx;
} lem_act;

/// What one kernel call may do, chosen by its caller (LEMEngine's `EngineOptions`) and passed to
/// every entry point that has a choice, pooled workers included. The kernels keep no mode of their
/// own, so two callers can take different paths over the same data at the same time.
typedef struct {
    int32_t simd;  // 1: the AVX2 + FMA + F16C bodies, where the CPU has them; 0: the portable scalar bodies
    int32_t q8;    // 1: quantized formats are dotted against the 8-bit activation (llama.cpp's way: fastest,
                   // logits move by the activation rounding); 0: exactly in f32 (each row dequantized into a
                   // stack buffer, then an f32 dot)
    int32_t dot8;  // 1: the AVX2 decode dots eight rows per call where such a kernel exists; 0: one row
    int32_t vnni;  // 1: with `simd`, the decode dots' AVX-512 VNNI variants where the CPU has them (same
                   // results as AVX2, bit for bit); 0: AVX2 only
} lem_options;

/// The instruction-set extensions and vendor cpuid reports, as `LEM_CPU_*` bits (0 off x86).
#define LEM_CPU_AVX 0x00000001u
#define LEM_CPU_AVX2 0x00000002u
#define LEM_CPU_FMA 0x00000004u
#define LEM_CPU_F16C 0x00000008u
#define LEM_CPU_AVX512F 0x00000010u
#define LEM_CPU_AVX512BW 0x00000020u
#define LEM_CPU_AVX512VL 0x00000040u
#define LEM_CPU_AVX512DQ 0x00000080u
#define LEM_CPU_AVX512VNNI 0x00000100u
#define LEM_CPU_AVX512BF16 0x00000200u
#define LEM_CPU_AVXVNNI 0x00000400u
#define LEM_CPU_VENDOR_AMD 0x40000000u
#define LEM_CPU_VENDOR_INTEL 0x80000000u
uint32_t lem_cpu_feature_bits(void);

/// Whether this CPU has AVX2 + FMA + F16C (cpuid, read once): `simd` takes effect only then.
int lem_cpu_simd(void);
/// Whether this CPU also has AVX-512 F, BW, VL and VNNI (cpuid, read once): `vnni` takes effect
/// only then.
int lem_cpu_vnni(void);

/// Whether `format` can be read with `cols` columns (block multiples).
int lem_format_supported(int32_t format, int32_t cols);

/// Prepares `a` for quantized formats under `opt`: with `opt.q8`, quantizes `a->x` into `a->q`,
/// `a->d`, `a->s` (needs cols % 32 == 0) and sets `a->q8`; else clears `a->q8` (the exact f32 path).
void lem_prepare_act(lem_act *a, lem_options opt);

/// out[r - r0] = row(r) · x for stored-logical rows r in [r0, r1).
///
/// Row r is the logical (Hugging Face) row; with `perm_heads` the stored row is found by
/// undoing llama.cpp's rotary permutation. Runs on the calling thread.
void lem_matvec_rows(const lem_matrix *m, const lem_act *a, float *out, int32_t r0, int32_t r1, lem_options opt);

/// Dequantizes logical row `r` of `m` into `out[0 ..< cols]` (f32).
void lem_dequantize_row(const lem_matrix *m, int32_t r, float *out);

/// A task run on the pool: `fn(ctx, worker, workers)` for every worker in 0 ..< workers.
typedef void (*lem_task_fn)(void *ctx, int32_t worker, int32_t workers);

/// Sets the pool's thread count (calling thread included, at most 64); <= 0 means the number of
/// online CPUs, the count until one is set. Takes effect at the next run.
void lem_pool_set_threads(int32_t threads);
/// The thread count runs use.
int32_t lem_pool_threads(void);
/// Runs `fn(ctx, w, W)` once for every w in 0 ..< W, W = the thread count, and returns when all
/// are done: `lem_pool_run_chunks(fn, ctx, lem_pool_threads())`. Indices are claimed by whichever
/// thread is free (the caller too), so two indices may run one after the other on one thread;
/// `fn` must not wait for another index. When the pool is busy with another caller's run, every
/// index runs inline.
void lem_pool_run(lem_task_fn fn, void *ctx);

// MARK: decode (helper "decode"): chunked pool runs, fused matvecs

/// Runs `fn(ctx, c, chunks)` exactly once for every chunk c in 0 ..< chunks over the pool and
/// returns when all are done. Chunks are claimed one at a time by the caller and any awake
/// worker; once every chunk is claimed the caller waits only for claimed chunks still running,
/// so a worker that wakes late finds nothing left and skips the run. More than 65535 chunks, a
/// single thread or a busy pool (another caller's run, or a call from inside `fn`) run inline.
void lem_pool_run_chunks(lem_task_fn fn, void *ctx, int32_t chunks);

/// A row-parallel matvec over the pool: `out[r] = row(r) · x` for all rows, rows handed out in
/// chunks from a shared counter so a descheduled worker does not stall the others.
void lem_matvec(const lem_matrix *m, const lem_act *a, float *out, lem_options opt);

/// Several matvecs over the same activation in one pool run (q/k/v, gate/up).
void lem_matvec_multi(const lem_matrix *const *ms, int32_t count, const lem_act *a, float *const *outs,
                      lem_options opt);

/// Whether a prefill over `m` is faster through `lem_matvec_batch` (the several-activation
/// integer dots) than through the f32 GEMM, under 8-bit activations and the SIMD kernels: Q4_0,
/// Q4_1, Q5_0, Q8_0 and MLX 4-bit, interleaved or not (so the layout never changes a result).
/// The K-quants' batched dots measured 1.3x the GEMM with VNNI but no faster with AVX2; they stay
/// on the GEMM so that the instruction set never changes a result either.
int lem_prefill_dots_supported(const lem_matrix *m);

/// The most activations one `lem_matvec_batch` pass takes (more are done in passes of this many).
#define LEM_BATCH_MAX 64

/// Several sequences' decode steps at once: `outs[i][b · rows_i + r] = row_r(ms[i]) · acts[b]`
/// for the `n` activations (each prepared as for `lem_matvec`, all the same width and mode) and
/// the `count` matrices. The pool hands out chunks of rows; each chunk's weights are read once
/// and dotted with every activation by the single-activation kernels, so each output equals
/// `lem_matvec_multi`'s for that activation bit for bit.
void lem_matvec_batch(const lem_matrix *const *ms, int32_t count, const lem_act *acts, int32_t n, float *const *outs,
                      lem_options opt);

/// A row-parallel dequantization of rows [r0, r1) into `out` (rows × cols), for prefill tiles.
void lem_dequantize_rows(const lem_matrix *m, int32_t r0, int32_t r1, float *out);

// MARK: row-interleaved copies for decode (issue 4, session 5; Sources/CLEMKernels/dot_x8.c)

/// Whether `m`'s format has an interleaved layout (Q4_0, Q4_1, Q5_0, Q8_0, MLX 4-bit).
int lem_x8_supported(const lem_matrix *m);
/// Bytes of the interleaved copy of `m`'s first rows / 8 · 8 logical rows (0: none possible).
size_t lem_x8_bytes(const lem_matrix *m);
/// Writes that copy into `dst` (`lem_x8_bytes(m)` bytes, any alignment) over the pool. Rows are
/// taken in logical order (a GGUF head permutation is undone), bytes moved, never re-quantized.
/// With `release` (1: any memory, 2: a read-only private file mapping), the stored rows' pages
/// (and MLX scales/biases) are released as they are copied (`lem_release_pages`), so the two are
/// never both resident in full.
void lem_x8_pack(const lem_matrix *m, uint8_t *dst, int release);
/// Builds in `view` a one-row matrix over `tmp` holding logical row `r` of `m` as stored bytes,
/// read back from `m->x8` (1), or returns 0 when `r` is not in the copy or `tmp` is too small.
int lem_x8_row_view(const lem_matrix *m, int32_t r, uint8_t *tmp, size_t tmp_bytes, lem_matrix *view);
/// Asks the kernel to drop the resident pages wholly inside [p, p + n): MADV_DONTNEED when the
/// range is in a read-only private file mapping (`file_mapping`; re-read on the next touch),
/// else MADV_PAGEOUT (anonymous pages at worst swapped, never lost).
void lem_release_pages(const void *p, size_t n, int file_mapping);

// MARK: attention (Sources/CLEMKernels/attention.c)

/// A run of cache slots: slot j's key and value rows start at `keys + off + j · stride` and
/// `values + off + j · stride` (`off` given per call: the key/value head), at position `pos[j]`
/// (< 0: empty). A call's slots are its runs' slots in order.
typedef struct {
    const float *keys;
    const float *values;
    const intptr_t *pos;
    int32_t slots;
} lem_kv_run;

/// One query row `q` (d floats) attending the cache's slots (`runs`). Slots after `pos`, or at or
/// before `pos − window` when `window` > 0, are masked. Scores are scaled by `scale`, soft-capped
/// when `softcap` > 0, max-subtracted and exponentiated in `scores` (one float per slot); `out`
/// (d) receives the weighted sum of value rows. The split into runs does not change the result.
/// `sink` (−INFINITY: none) is one more logit in the softmax's maximum and denominator with no
/// value row (GPT-OSS's attention sinks).
void lem_attend_row(const float *q, const lem_kv_run *runs, int32_t nruns, size_t off, size_t stride, int32_t d,
                    intptr_t pos, intptr_t window, float scale, float softcap, float sink, float *scores, float *out,
                    lem_options opt);

/// `lem_attend_row` for `n` ≤ 4 query rows of one head (row r at `q + r · qstride`, position
/// `pos[r]`, output at `out + r · ostride`) together, each key and value row loaded once for all
/// of them; `scores` holds 4 · slots floats. Each row's result equals `lem_attend_row`'s.
void lem_attend_rows4(const float *q, size_t qstride, int32_t n, const intptr_t *pos, const lem_kv_run *runs,
                      int32_t nruns, size_t off, size_t stride, int32_t d, intptr_t window, float scale,
                      float softcap, float sink, float *scores, float *out, size_t ostride, lem_options opt);

/// One token's attention for the `group` query heads at `q` (group × d) sharing one KV head, over
/// slots [s0, s1) of the runs only (a share of the cache for one thread): per head g, `m[g]` = the
/// largest visible score (−∞: none visible), `l[g]` = Σ e^{score − m[g]} and `out` (group × d)
/// that weighted sum of value rows, not yet divided by l; `scores` (group × (s1 − s0)) is scratch.
/// Shares are merged by rescaling with e^{m_share − m} (a sink joins there, once). Each key and
/// value row is read once.
void lem_attend_partial(const float *q, int32_t group, const lem_kv_run *runs, int32_t nruns, size_t off,
                        size_t stride, int32_t s0, int32_t s1, int32_t d, intptr_t pos, intptr_t window, float scale,
                        float softcap, float *scores, float *out, float *m, float *l, lem_options opt);

// MARK: prefill (several tokens at once; Sources/CLEMKernels/prefill.c)

/// out[t·ldo + j] = x[t] · w[j] for t < tokens, j < rows: x (tokens, k) and w (rows, k) both
/// row-major f32. AVX2 register blocks of 4 tokens × 3 rows, or plain loops without `opt.simd`.
void lem_gemm_nt(const float *x, int32_t tokens, int32_t k, const float *w, int32_t rows, float *out, int32_t ldo,
                 lem_options opt);

/// Dequantizes logical row `r` of `m` into `out[0 ..< cols]` like `lem_dequantize_row`, with
/// loops the compiler vectorizes for Q4_K/Q5_K/Q6_K/Q5_0/Q5_1/MLX (AVX2 when `simd`, which must
/// be 0 unless `lem_cpu_simd()`), the other formats through `lem_dequantize_row`
/// (Sources/CLEMKernels/prefill_dequant.c).
void lem_dequantize_row_tile(const lem_matrix *m, int32_t r, float *out, int simd);

/// out(tokens, m->rows) = x(tokens, m->cols) · mᵀ over the pool: each worker dequantizes chunks
/// of rows (≤ 256 KiB of f32, from a shared counter) into its slice of `tile`
/// (tile_rows, m->cols), then runs `lem_gemm_nt` on all tokens. No OpenBLAS.
void lem_prefill_matmul(const lem_matrix *m, const float *x, int32_t tokens, float *tile, int32_t tile_rows, float *out,
                        lem_options opt);

#ifdef __cplusplus
}
#endif

#endif
