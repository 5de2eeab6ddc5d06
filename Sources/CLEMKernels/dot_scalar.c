// Portable bodies of the row dots and the activation quantizer. They compute the same block
// arithmetic as the AVX2 bodies (integer dot per 32-block, scaled once, offsets through the block
// sums), so the two differ only by float summation order.

#include "lem_internal.h"
#include <math.h>

void lem_quantize_act_scalar(lem_act *a) {
    int32_t blocks = a->cols / 32;
    for (int32_t b = 0; b < blocks; b++) {
        const float *x = a->x + 32 * b;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127.0f;
        float id = d != 0 ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            int v = (int)nearbyintf(x[i] * id);
            a->q[32 * b + i] = (int8_t)v;
            sum += v;
        }
        a->d[b] = d;
        a->s[b] = d * (float)sum;
    }
}

/// Σ w·q over 32 elements, `w` given as 32 small integers.
static inline int32_t idot32(const int32_t *w, const int8_t *q) {
    int32_t s = 0;
    for (int i = 0; i < 32; i++) s += w[i] * q[i];
    return s;
}

/// Q4_0/Q4_1 (`has_min`: the _1 types), and Q5_0/Q5_1 with `five` (each element's fifth bit from
/// the 32-bit word before the nibbles).
static float dot_q4_q5(const uint8_t *row, const lem_act *a, int has_min, int five) {
    float sum = 0;
    int32_t w[32];
    int qs = 2 + 2 * has_min + 4 * five, bytes = qs + 16;
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p = row + bytes * b;
        uint32_t qh = five ? lem_q5_high(p, qs) : 0;
        for (int j = 0; j < 16; j++) {
            w[j] = (p[qs + j] & 0x0F) | (((qh >> j) & 1) << 4);
            w[j + 16] = (p[qs + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
        }
        int32_t isum = idot32(w, a->q + 32 * b);
        sum += five ? lem_q5_block(p, has_min, a, b, isum) : lem_q4_block(p, has_min, a, b, isum);
    }
    return sum;
}

/// The formats with one scale per block of signed weights: Q8_0 (32 int8 after an f16 scale) and,
/// with `mxfp4`, MXFP4 (16 bytes of E2M1 codes after an E8M0 exponent; ggml's doubled integer
/// values with the scale halved): the scale times the block's exact integer dot.
static float dot_q8_0_mxfp4(const uint8_t *row, const lem_act *a, int mxfp4) {
    float sum = 0;
    int32_t w[32];
    int bytes = mxfp4 ? 17 : 34;
    for (int32_t b = 0; b < a->cols / 32; b++) {
        const uint8_t *p = row + bytes * b;
        for (int j = 0; j < 16 && mxfp4; j++) {
            w[j] = lem_mxfp4_values[p[1 + j] & 0x0F];
            w[j + 16] = lem_mxfp4_values[p[1 + j] >> 4];
        }
        for (int j = 0; j < 32 && !mxfp4; j++) w[j] = (int8_t)p[2 + j];
        int32_t isum = idot32(w, a->q + 32 * b);
        sum += mxfp4 ? lem_e8m0_half(p[0]) * a->d[b] * (float)isum : lem_q8_0_block(p, a, b, isum);
    }
    return sum;
}

static float dot_q4_k(const uint8_t *row, const lem_act *a, int five) {
    float sum = 0;
    int32_t w[32];
    int bytes = five ? 176 : 144, qs = five ? 48 : 16;
    for (int32_t sbk = 0; sbk < a->cols / 256; sbk++) {
        const uint8_t *p = row + bytes * sbk;
        for (int j = 0; j < 8; j++) {
            int shift = (j % 2) * 4;
            for (int l = 0; l < 32; l++) {
                w[l] = (p[qs + (j / 2) * 32 + l] >> shift) & 0x0F;
                if (five) w[l] |= ((p[16 + l] >> j) & 1) << 4;
            }
            int32_t b = sbk * 8 + j;
            sum += lem_q4k_block(p, j, a, b, idot32(w, a->q + 32 * b));
        }
    }
    return sum;
}

static float dot_q6_k(const uint8_t *row, const lem_act *a) {
    float sum = 0;
    for (int32_t sbk = 0; sbk < a->cols / 256; sbk++) {
        const uint8_t *p = row + 210 * sbk;
        const int8_t *scales = (const int8_t *)(p + 192);
        for (int j = 0; j < 8; j++) {
            int32_t b = sbk * 8 + j;
            const int8_t *q = a->q + 32 * b;
            int32_t isum = 0;
            for (int l = 0; l < 32; l++) {
                int e = 32 * j + l, half = e / 128, r = e % 128;
                int low = (p[half * 64 + r % 64] >> ((r / 64) * 4)) & 0x0F;
                int high = (p[128 + half * 32 + r % 32] >> ((r / 32) * 2)) & 3;
                isum += scales[e / 16] * ((low | (high << 4)) - 32) * q[l];
            }
            sum += lem_q6k_block(p, a, b, isum);
        }
    }
    return sum;
}

static float dot_mlx(const lem_matrix *m, const uint8_t *row, int32_t r, const lem_act *a, int bits) {
    int32_t groups = m->cols / m->group_size;
    size_t ss = (size_t)lem_scale_size(m->scale_type);
    const uint8_t *sp = m->scales + (size_t)r * groups * ss, *bp = m->biases + (size_t)r * groups * ss;
    int32_t per = m->group_size / 32;
    float sum = 0;
    int32_t w[32];
    for (int32_t b = 0; b < m->cols / 32; b++) {
        float sc = lem_scale_at(sp, m->scale_type, b / per), bias = lem_scale_at(bp, m->scale_type, b / per);
        if (bits == 4) {
            const uint8_t *p = row + 16 * b;
            for (int j = 0; j < 16; j++) {
                w[2 * j] = p[j] & 0x0F;
                w[2 * j + 1] = p[j] >> 4;
            }
            sum += sc * a->d[b] * (float)idot32(w, a->q + 32 * b) + bias * a->s[b];
        } else {
            const uint8_t *p = row + 32 * b;
            for (int j = 0; j < 32; j++) w[j] = (int32_t)p[j] - 128;
            sum += sc * a->d[b] * (float)idot32(w, a->q + 32 * b) + (128 * sc + bias) * a->s[b];
        }
    }
    return sum;
}

static float dot_float(const lem_matrix *m, const uint8_t *row, const lem_act *a) {
    float sum = 0;
    for (int32_t i = 0; i < m->cols; i++) {
        float w;
        switch (m->format) {
        case LEM_FMT_F16: w = lem_f16(lem_u16(row + 2 * i)); break;
        case LEM_FMT_BF16: w = lem_bf16(lem_u16(row + 2 * i)); break;
        default: memcpy(&w, row + 4 * i, 4); break;
        }
        sum += w * a->x[i];
    }
    return sum;
}

float lem_dot_row_scalar(const lem_matrix *m, int32_t stored, const lem_act *a) {
    const uint8_t *row = m->base + (size_t)stored * m->row_bytes;
    switch (m->format) {
    case LEM_FMT_Q4_0: return dot_q4_q5(row, a, 0, 0);
    case LEM_FMT_Q4_1: return dot_q4_q5(row, a, 1, 0);
    case LEM_FMT_Q5_0: return dot_q4_q5(row, a, 0, 1);
    case LEM_FMT_Q5_1: return dot_q4_q5(row, a, 1, 1);
    case LEM_FMT_Q8_0: return dot_q8_0_mxfp4(row, a, 0);
    case LEM_FMT_Q4_K: return dot_q4_k(row, a, 0);
    case LEM_FMT_Q5_K: return dot_q4_k(row, a, 1);
    case LEM_FMT_Q6_K: return dot_q6_k(row, a);
    case LEM_FMT_MXFP4: return dot_q8_0_mxfp4(row, a, 1);
    case LEM_FMT_MLX4: return dot_mlx(m, row, stored, a, 4);
    case LEM_FMT_MLX8: return dot_mlx(m, row, stored, a, 8);
    default: return dot_float(m, row, a);
    }
}
