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

// No VNNI off x86: matvec.c's VNNI table is the AVX2 one there, and this never says yes.
int lem_cpu_has_vnni(void) { return 0; }

#endif
