// The decode dots compiled a second time for CPUs with AVX-512 VNNI (+ VL, BW): the same bodies as
// dot_avx2.c and dot_x8.c (dot_row_body.h, dot_x8_body.h) with each block's u8 × i8 products
// summed by one `vpdpbusd` on 256-bit registers instead of `maddubs` + `madd`. The integer sums
// are the same exact values, so every result equals the AVX2 variant's bit for bit; calls reach
// these only when their `lem_options.vnni` allows it and cpuid reports the extensions.

#include "lem_internal.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"))), \
                             apply_to = function)

#include "lem_avx2.h"

#define LEM_VNNI 1
#define LEM_K(name) name##_vnni
#include "dot_row_body.h"
#include "dot_x8_body.h"
#undef LEM_K
#undef LEM_VNNI

#pragma clang attribute pop

int lem_cpu_has_vnni(void) {
    __builtin_cpu_init();
    return lem_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

#else

float lem_dot_row_vnni(const lem_matrix *m, int32_t stored, const lem_act *a) { return lem_dot_row_scalar(m, stored, a); }
void lem_dot_x8_vnni(const lem_matrix *m, int32_t group, const lem_act *a, float out[8]) {
    for (int i = 0; i < 8; i++) out[i] = lem_dot_row_scalar(m, lem_stored_row(m, 8 * group + i), a);
}
void lem_dot_x8_multi_vnni(const lem_matrix *m, int32_t group, const lem_act *acts, int32_t n, float *out,
                           size_t stride) {
    lem_dot_x8_multi_avx2(m, group, acts, n, out, stride);
}
void lem_dot_row_multi_vnni(const lem_matrix *m, int32_t stored, const lem_act *acts, int32_t n, float *out,
                            size_t stride) {
    lem_dot_row_multi_avx2(m, stored, acts, n, out, stride);
}
int lem_dot_row_multi_supported_vnni(int32_t format) { return lem_dot_row_multi_supported_avx2(format); }
int lem_cpu_has_vnni(void) { return 0; }

#endif
