// What the CPU offers, read once through the compiler's cpuid helpers; used to pick OpenBLAS's
// core (Runtime/BLASCore.swift) and printed by `lem bench-speed`.
#include "lem_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
uint32_t lem_cpu_feature_bits(void) {
    __builtin_cpu_init();
    uint32_t bits = 0;
    if (__builtin_cpu_supports("avx")) bits |= LEM_CPU_AVX;
    if (__builtin_cpu_supports("avx2")) bits |= LEM_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) bits |= LEM_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) bits |= LEM_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) bits |= LEM_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) bits |= LEM_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) bits |= LEM_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512dq")) bits |= LEM_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vnni")) bits |= LEM_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bf16")) bits |= LEM_CPU_AVX512BF16;
    if (__builtin_cpu_supports("avxvnni")) bits |= LEM_CPU_AVXVNNI;
    if (__builtin_cpu_is("amd")) bits |= LEM_CPU_VENDOR_AMD;
    if (__builtin_cpu_is("intel")) bits |= LEM_CPU_VENDOR_INTEL;
    return bits;
}
#else
uint32_t lem_cpu_feature_bits(void) { return 0; }
#endif
