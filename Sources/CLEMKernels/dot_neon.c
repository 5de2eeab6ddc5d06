// The NEON row dots on arm64 (`dot_neon_body.h`): with `simd`, the matvecs' per-row dots there
// (NEON is part of every arm64 CPU; `sdot` where the compiler targets the dot-product extension).
// Off arm64 this file is empty: x86 runs the AVX2/VNNI bodies, and the tests run these bodies
// through SIMDe (Tests/CLEMNeonEmulation).

#include "lem_internal.h"

#if defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>

#if defined(__ARM_FEATURE_DOTPROD)
#define LEM_SDOT 1
#else
#define LEM_SDOT 0
#endif
#define LEM_N(name) name##_neon
#include "dot_neon_body.h"
#undef LEM_N
#undef LEM_SDOT

float lem_dot_row_neon(const lem_matrix *m, int32_t stored, const lem_act *a) {
    return dot_row_neon(m, stored, a, lem_dot_row_scalar);
}
#endif
