// What the CPU offers, read once through the compiler's cpuid helpers; used to pick OpenBLAS's
// core (Runtime/BLASCore.swift) and printed by `lem bench-speed`.
#include "lem_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
uint32_t lem_cpu_feature_bits(void) {
    __builtin_cpu_init();
    // __builtin_cpu_supports needs a string literal, so each test is its own expression.
    const uint32_t found[] = {
        __builtin_cpu_supports("avx") ? LEM_CPU_AVX : 0u,
        __builtin_cpu_supports("avx2") ? LEM_CPU_AVX2 : 0u,
        __builtin_cpu_supports("fma") ? LEM_CPU_FMA : 0u,
        __builtin_cpu_supports("f16c") ? LEM_CPU_F16C : 0u,
        __builtin_cpu_supports("avx512f") ? LEM_CPU_AVX512F : 0u,
        __builtin_cpu_supports("avx512bw") ? LEM_CPU_AVX512BW : 0u,
        __builtin_cpu_supports("avx512vl") ? LEM_CPU_AVX512VL : 0u,
        __builtin_cpu_supports("avx512dq") ? LEM_CPU_AVX512DQ : 0u,
        __builtin_cpu_supports("avx512vnni") ? LEM_CPU_AVX512VNNI : 0u,
        __builtin_cpu_supports("avx512bf16") ? LEM_CPU_AVX512BF16 : 0u,
        __builtin_cpu_supports("avxvnni") ? LEM_CPU_AVXVNNI : 0u,
        __builtin_cpu_is("amd") ? LEM_CPU_VENDOR_AMD : 0u,
        __builtin_cpu_is("intel") ? LEM_CPU_VENDOR_INTEL : 0u,
    };
    uint32_t bits = 0;
    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) bits |= found[i];
    return bits;
}
#else
uint32_t lem_cpu_feature_bits(void) { return 0; }
#endif
