#ifndef LEM_INTERNAL_H
#define LEM_INTERNAL_H
// Shared helpers of the kernel files (not part of the public header).

#include "lem_kernels.h"
#include <string.h>

/// IEEE binary16 → f32, exact (subnormals included).
static inline float lem_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            float v = (float)mant * 0x1p-24f;
            return sign ? -v : v;
        }
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float lem_bf16(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// ggml's `ggml_e8m0_to_fp32_half`: 2^(e − 128), the MXFP4 block scale for doubled E2M1 values.
static inline float lem_e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// ggml's `kvalues_mxfp4`: E2M1 values doubled.
static const int8_t lem_mxfp4_values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static inline uint16_t lem_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline float lem_scale_at(const uint8_t *p, int32_t type, int32_t i) {
    switch (type) {
    case LEM_SCALE_F16: return lem_f16(lem_u16(p + 2 * i));
    case LEM_SCALE_BF16: return lem_bf16(lem_u16(p + 2 * i));
    default: {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    }
}

static inline int lem_scale_size(int32_t type) { return type == LEM_SCALE_F32 ? 4 : 2; }

/// The stored row of logical row `r` (inverse of llama.cpp's rotary permutation): logical
/// `h·hd + t·hd/2 + j` is stored at `h·hd + 2j + t`.
static inline int32_t lem_stored_row(const lem_matrix *m, int32_t r) {
    if (m->perm_heads <= 0) return r;
    int32_t hd = m->rows / m->perm_heads, half = hd / 2;
    int32_t h = r / hd, w = r % hd;
    return h * hd + 2 * (w % half) + w / half;
}

/// Q4_K/Q5_K 6-bit scale and min of sub-block j from the 12 packed bytes.
static inline void lem_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Bytes of one row in the interleaved copy (the stored bytes of the row, scales included).
static inline size_t lem_x8_row_bytes(const lem_matrix *m) {
    if (m->format != LEM_FMT_MLX4) return m->row_bytes;
    size_t groups = (size_t)(m->cols / m->group_size);
    return (size_t)m->cols / 2 + 2 * groups * (size_t)lem_scale_size(m->scale_type);
}

/// The float arithmetic of one 32-block `p` against block `b` of the 8-bit activation `a`, from
/// the block's exact integer dot `isum` (Σ w·q with the stored unsigned or signed weights): the
/// scalar and NEON bodies both end each block with these, so they agree expression for expression.
static inline float lem_q4_block(const uint8_t *p, int has_min, const lem_act *a, int32_t b, int32_t isum) {
    float dw = lem_f16(lem_u16(p));
    return has_min ? dw * a->d[b] * (float)isum + lem_f16(lem_u16(p + 2)) * a->s[b]
                   : dw * a->d[b] * (float)isum - 8 * dw * a->s[b];
}
static inline float lem_q5_block(const uint8_t *p, int has_min, const lem_act *a, int32_t b, int32_t isum) {
    float dw = lem_f16(lem_u16(p)), fi = (float)isum;
    return has_min ? dw * a->d[b] * fi + lem_f16(lem_u16(p + 2)) * a->s[b] : dw * a->d[b] * fi - 16 * dw * a->s[b];
}
static inline float lem_q8_0_block(const uint8_t *p, const lem_act *a, int32_t b, int32_t isum) {
    return lem_f16(lem_u16(p)) * a->d[b] * (float)isum;
}
/// Q4_K/Q5_K sub-block `j` of super-block `p` (its 6-bit scale and min read here).
static inline float lem_q4k_block(const uint8_t *p, int j, const lem_act *a, int32_t b, int32_t isum) {
    float d = lem_f16(lem_u16(p)), dmin = lem_f16(lem_u16(p + 2));
    uint8_t sc, mn;
    lem_scale_min_k4(j, p + 4, &sc, &mn);
    return d * (float)sc * a->d[b] * (float)isum - dmin * (float)mn * a->s[b];
}
/// Q6_K sub-block of super-block `p` (its scales already in `isum`).
static inline float lem_q6k_block(const uint8_t *p, const lem_act *a, int32_t b, int32_t isum) {
    return lem_f16(lem_u16(p + 208)) * a->d[b] * (float)isum;
}
/// Q5_0/Q5_1's 32 fifth bits (`qs`: where the nibbles start, after them).
static inline uint32_t lem_q5_high(const uint8_t *p, int qs) {
    uint32_t qh;
    memcpy(&qh, p + qs - 4, 4);
    return qh;
}

/// Dot of one stored row with the activation (scalar body).
float lem_dot_row_scalar(const lem_matrix *m, int32_t stored, const lem_act *a);
#if defined(__aarch64__) || defined(_M_ARM64)
/// Dot of one stored row with the activation (NEON bodies, `dot_neon.c`).
float lem_dot_row_neon(const lem_matrix *m, int32_t stored, const lem_act *a);
/// The portable path's row dot: the NEON bodies on arm64 when the caller allows SIMD, else the
/// scalar oracle.
#define LEM_PORTABLE_ROW(allow_simd) ((allow_simd) ? lem_dot_row_neon : lem_dot_row_scalar)
#else
#define LEM_PORTABLE_ROW(allow_simd) ((void)(allow_simd), lem_dot_row_scalar)
#endif
/// Dot of one stored row with the activation (AVX2 body); NULL-safe only when AVX2 is present.
float lem_dot_row_avx2(const lem_matrix *m, int32_t stored, const lem_act *a);
/// Whether `lem_dot_rows4_avx2` reads `format` (with the 8-bit activation) on this build.
int lem_dot4_supported(int32_t format);
/// Dots of four stored rows with the quantized activation (AVX2 only; see dot4_avx2.c).
void lem_dot_rows4_avx2(const lem_matrix *m, const int32_t stored[4], const lem_act *a, float out[4]);
/// Dots of eight stored rows (four-row kernel twice where no eight-row body exists).
void lem_dot_rows8_avx2(const lem_matrix *m, const int32_t stored[8], const lem_act *a, float out[8]);
/// `out` = `q` with each 32-block's even elements first, then its odd ones (`lem_act.q_mlx`).
void lem_act_mlx_order(const int8_t *q, int8_t *out, int32_t cols);
/// Bytes of a stack buffer that `lem_x8_row_view` rebuilds any stored row of at most
/// 16384 columns (matvec.c's LEM_EXACT_MAX_COLS) into (Q8_0: 17408 bytes).
enum { LEM_X8_VIEW_BYTES = 20480 };
/// Dots of interleaved group `group` (logical rows 8·group ..< +8) with the 8-bit `a` (its
/// `q_mlx` for MLX 4-bit); AVX2 only, the portable build dots the stored rows instead.
void lem_dot_x8_avx2(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]);
/// The same dots with AVX-512 VNNI (dot_vnni.c, x86 only): equal results, for CPUs where
/// `lem_cpu_vnni()`.
float lem_dot_row_vnni(const lem_matrix *m, int32_t stored, const lem_act *a);
void lem_dot_x8_vnni(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]);
/// `lem_dot_x8` for `n` activations at once: `out[t · stride + i]` = row 8·group + i · acts[t],
/// each equal to `lem_dot_x8` of that activation bit for bit; each block's weights are unpacked
/// once for up to four activations. Needs `q_mlx` for MLX 4-bit.
void lem_dot_x8_multi_avx2(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out,
                           size_t stride);
void lem_dot_x8_multi_vnni(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out,
                           size_t stride);
int lem_cpu_has_vnni(void);
/// One stored row against `n` activations: `out[t · stride]` = `lem_dot_row` of activation t, bit
/// for bit; Q4_K / Q5_K / Q6_K rows are unpacked once for up to four activations (other formats
/// call the one-activation dot for each).
void lem_dot_row_multi_avx2(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out,
                            size_t stride);
void lem_dot_row_multi_vnni(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out,
                            size_t stride);
void lem_quantize_act_scalar(lem_act *a);
void lem_quantize_act_avx2(lem_act *a);
int lem_cpu_has_avx2(void);
/// Whether a call with `opt` runs the AVX2 bodies: it may, and the CPU has them.
static inline int lem_use_simd(lem_options opt) { return opt.simd && lem_cpu_simd(); }
/// Whether a call with `opt` runs the VNNI variants of the decode dots (`opt.vnni`, SIMD allowed,
/// and the CPU has AVX-512 VNNI + VL + BW).
static inline int lem_use_vnni(lem_options opt) { return opt.vnni && lem_use_simd(opt) && lem_cpu_vnni(); }
/// a · b over n floats.
float lem_dot_f32_avx2(const float *a, const float *b, int32_t n);

#endif
